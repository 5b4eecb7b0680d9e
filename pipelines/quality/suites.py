"""Great Expectations validity suites, generated from the filing contracts (never a hand-typed column list).

One suite per filing type, ``validity.<filing_type>``, run over a batch that is ``raw.<filing_type>``
filtered to the submissions being validated (so several submissions are validated in one run; every
check that needs the submission -- key uniqueness, enterprise, period -- reads ``submission_id``).

Every expectation carries in ``meta``:
  rule_id   the catalog rule it implements (pipelines/quality/catalog/validity.yml)
  fields    the columns a finding shows with their values (the checked column first)
  message   what to tell the filer: a ``str.format`` template over those fields' values

The suites are published as JSON in the GX file context under ``expectations/`` (checked in; a test
keeps them equal to :func:`build_suites`). Regenerate with ``python -m pipelines.quality.suites``.
The validity stage builds them from the contracts at run time, so what runs is always what the
contracts say.
"""

from __future__ import annotations

import json
import re
import sys
from functools import cache
from pathlib import Path
from typing import Any

import great_expectations as gx
import great_expectations.expectations as gxe

from pipelines.contracts import Column, Contract, load_contracts
from pipelines.quality import gx_duckdb  # noqa: F401  (GX_ANALYTICS_ENABLED=false before any context)

GX_PROJECT_ROOT = Path(__file__).resolve().parents[2] / "expectations"
SUITE_PREFIX = "validity."
TEXT_MAX_LENGTH = 200

# rule ids of the generated checks (the catalog holds their titles and descriptions)
RULE_REQUIRED = "V001"
RULE_REQUIRED_WHEN = "V002"
RULE_NULL_UNLESS = "V003"
RULE_ENUM = "V004"
RULE_RANGE = "V005"
FORMAT_RULES = {"region_code": "V006", "country": "V007", "sector_code": "V008", "id_hash": "V009"}
RULE_TEXT_LENGTH = "V010"
RULE_TEXT_TRIMMED = "V011"
RULE_KEY_UNIQUE = "V012"
RULE_ENTERPRISE = "V013"
RULE_IN_PERIOD = "V014"
RULE_NOT_AFTER_PERIOD_END = "V015"
RULE_PERIOD_END = "V016"

GENERATED_RULE_IDS = (
    RULE_REQUIRED,
    RULE_REQUIRED_WHEN,
    RULE_NULL_UNLESS,
    RULE_ENUM,
    RULE_RANGE,
    *FORMAT_RULES.values(),
    RULE_TEXT_LENGTH,
    RULE_TEXT_TRIMMED,
    RULE_KEY_UNIQUE,
    RULE_ENTERPRISE,
    RULE_IN_PERIOD,
    RULE_NOT_AFTER_PERIOD_END,
    RULE_PERIOD_END,
)

# SQL pieces over one raw row. Braces are doubled: GX fills {batch} with str.format.
SID_RE = "^(.+)-([0-9]{{4}}-[0-9]{{2}})-v[0-9]+$"
ENTERPRISE_OF_SID = f"regexp_extract(submission_id, '{SID_RE}', 1)"
PERIOD_START = f"try_cast(regexp_extract(submission_id, '{SID_RE}', 2) || '-01' as date)"
PERIOD_END = f"last_day({PERIOD_START})"


def suite_name(filing_type: str) -> str:
    return f"{SUITE_PREFIX}{filing_type}"


def index_columns(contract: Contract) -> list[str]:
    """Columns that identify a failing row: the submission, the delivered row number, the key."""
    return ["submission_id", "_row", *contract.key]


def _esc(sql: str) -> str:
    """Escape literal braces of contract SQL for GX's str.format."""
    return sql.replace("{", "{{").replace("}", "}}")


def condition_columns(contract: Contract, condition: str) -> list[str]:
    """Contract columns a condition reads, in contract order."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", re.sub(r"'[^']*'", "", condition)))
    return [c.name for c in contract.columns if c.name in words]


def _select(contract: Contract, fields: list[str]) -> str:
    cols = index_columns(contract)
    cols += [f for f in fields if f not in cols]
    return ", ".join(cols)


def _rows(contract: Contract, fields: list[str], where: str) -> str:
    return f"select {_select(contract, fields)} from {{batch}} where {where}"


def _meta(rule_id: str, fields: list[str], message: str) -> dict:
    return {"rule_id": rule_id, "fields": fields, "message": message}


def _day(col: Column) -> str:
    """The Shanghai calendar day of a date or timestamp column."""
    if col.type == "timestamp":
        return f"cast(timezone('Asia/Shanghai', {col.name}) as date)"
    return col.name


def _explain(col: Column) -> str:
    return _lit(col.description or col.requirement)


def _lit(text: str) -> str:
    """Free text inside a message template (templates are filled with str.format)."""
    return text.replace("{", "{{").replace("}", "}}")


def column_expectations(contract: Contract, col: Column) -> list[gxe.Expectation]:
    """The generated expectations of one contract column, in a fixed order."""
    out: list[gxe.Expectation] = []
    name = col.name
    if col.always_required:
        out.append(
            gxe.ExpectColumnValuesToNotBeNull(
                column=name,
                meta=_meta(RULE_REQUIRED, [name], f"{name} is required and must not be empty."),
            )
        )
    if col.required_when:
        fields = [name, *[c for c in condition_columns(contract, col.required_when) if c != name]]
        out.append(
            gxe.UnexpectedRowsExpectation(
                description=f"{contract.filing_type}.{name}: {col.requirement}",
                unexpected_rows_query=_rows(
                    contract, fields, f"({_esc(col.required_when)}) and {name} is null"
                ),
                meta=_meta(
                    RULE_REQUIRED_WHEN, fields, f"{name} is empty but required for this row: {_explain(col)}."
                ),
            )
        )
    if col.null_unless:
        fields = [name, *[c for c in condition_columns(contract, col.null_unless) if c != name]]
        out.append(
            gxe.UnexpectedRowsExpectation(
                description=f"{contract.filing_type}.{name}: null unless {col.null_unless}",
                unexpected_rows_query=_rows(
                    contract, fields, f"not ({_esc(col.null_unless)}) and {name} is not null"
                ),
                meta=_meta(
                    RULE_NULL_UNLESS,
                    fields,
                    f"{name} must be empty for this row (value '{{{name}}}'): {_explain(col)}.",
                ),
            )
        )
    if col.values:
        allowed = ", ".join(col.values)
        out.append(
            gxe.ExpectColumnValuesToBeInSet(
                column=name,
                value_set=list(col.values),
                meta=_meta(
                    RULE_ENUM,
                    [name],
                    f"{name} '{{{name}}}' is not one of the codes {allowed} (case-sensitive).",
                ),
            )
        )
    if col.min is not None or col.min_exclusive is not None or col.max is not None:
        kwargs: dict = {}
        bounds = []
        if col.min_exclusive is not None:
            kwargs.update(min_value=col.min_exclusive, strict_min=True)
            bounds.append(f"greater than {col.min_exclusive:g}")
        elif col.min is not None:
            kwargs.update(min_value=col.min)
            bounds.append(f"at least {col.min:g}")
        if col.max is not None:
            kwargs.update(max_value=col.max)
            bounds.append(f"at most {col.max:g}")
        out.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=name,
                **kwargs,
                meta=_meta(
                    RULE_RANGE,
                    [name],
                    f"{name} {{{name}}} is out of range: it must be {' and '.join(bounds)}.",
                ),
            )
        )
    if col.kind.validity:
        rule_id = FORMAT_RULES[col.type]  # a new kind with a validity regex needs a rule: KeyError here
        out.append(
            gxe.UnexpectedRowsExpectation(
                description=f"{contract.filing_type}.{name}: {col.kind.description}",
                unexpected_rows_query=_rows(
                    contract,
                    [name],
                    f"{name} is not null and not regexp_matches({name}, '{_esc(col.kind.validity)}')",
                ),
                meta=_meta(
                    rule_id, [name], f"{name} '{{{name}}}' is not a valid {col.type}: {col.kind.description}."
                ),
            )
        )
    if col.type == "text":
        out.append(
            gxe.ExpectColumnValueLengthsToBeBetween(
                column=name,
                max_value=TEXT_MAX_LENGTH,
                meta=_meta(RULE_TEXT_LENGTH, [name], f"{name} is longer than {TEXT_MAX_LENGTH} characters."),
            )
        )
    if name == "enterprise_id":
        out.append(
            gxe.UnexpectedRowsExpectation(
                description=f"{contract.filing_type}.enterprise_id equals the submission's enterprise",
                unexpected_rows_query=_rows(
                    contract, [name], f"{name} is not null and {name} <> {ENTERPRISE_OF_SID}"
                ),
                meta=_meta(
                    RULE_ENTERPRISE,
                    [name],
                    "enterprise_id '{enterprise_id}' is not the enterprise of this submission: "
                    "every row must carry the manifest's enterprise_id.",
                ),
            )
        )
    day = _day(col)
    if col.in_period:
        out.append(
            gxe.UnexpectedRowsExpectation(
                description=f"{contract.filing_type}.{name} within the period (X-15)",
                unexpected_rows_query=_rows(
                    contract,
                    [name],
                    f"{name} is not null and ({day} < {PERIOD_START} or {day} > {PERIOD_END})",
                ),
                meta=_meta(RULE_IN_PERIOD, [name], f"{name} {{{name}}} is outside the reporting period."),
            )
        )
    if col.not_after_period_end:
        out.append(
            gxe.UnexpectedRowsExpectation(
                description=f"{contract.filing_type}.{name} on or before the period's last day (X-15)",
                unexpected_rows_query=_rows(contract, [name], f"{name} is not null and {day} > {PERIOD_END}"),
                meta=_meta(
                    RULE_NOT_AFTER_PERIOD_END,
                    [name],
                    f"{name} {{{name}}} is after the last day of the reporting period"
                    + (" (Asia/Shanghai date)." if col.type == "timestamp" else "."),
                ),
            )
        )
    if col.period_end:
        out.append(
            gxe.UnexpectedRowsExpectation(
                description=f"{contract.filing_type}.{name} is the period's last day",
                unexpected_rows_query=_rows(
                    contract, [name], f"{name} is not null and {day} <> {PERIOD_END}"
                ),
                meta=_meta(
                    RULE_PERIOD_END,
                    [name],
                    f"{name} {{{name}}} must be the last day of the reporting period.",
                ),
            )
        )
    return out


def trimmed_expectation(contract: Contract) -> gxe.Expectation | None:
    """One expectation per filing type over all its text columns (one pass over the batch, not one per
    column); the failing fields and their values come back as a list in the column ``__fields``."""
    text = [c.name for c in contract.columns if c.type == "text"]
    if not text:
        return None
    # trim() without a character list (spaces): about twice as fast as a regex or a character list
    untrimmed = [f"{c} <> trim({c})" for c in text]
    items = ", ".join(
        f"case when {cond} then {{{{'field': '{c}', 'value': {c}}}}} end"
        for c, cond in zip(text, untrimmed, strict=True)
    )
    cols = ", ".join(index_columns(contract))
    query = (
        f"select {cols}, list_filter([{items}], lambda f: f is not null) as __fields "
        f"from {{batch}} where {' or '.join(untrimmed)}"
    )
    return gxe.UnexpectedRowsExpectation(
        description=f"{contract.filing_type}: text fields trimmed ({', '.join(text)})",
        unexpected_rows_query=query,
        meta={
            **_meta(RULE_TEXT_TRIMMED, [], "Text values must not start or end with white space: remove it."),
            "fields_column": "__fields",
        },
    )


def key_expectation(contract: Contract) -> gxe.Expectation:
    """Key unique within the submission. Written as a window query: about twice as fast on DuckDB as
    ExpectCompoundColumnsToBeUnique's self-join."""
    key = list(contract.key)
    part = ", ".join(["submission_id", *key])
    shown = "|".join("{" + k + "}" for k in key)
    return gxe.UnexpectedRowsExpectation(
        description=f"{contract.filing_type}: key ({', '.join(key)}) unique within the submission",
        unexpected_rows_query=(
            f"select {_select(contract, key)} from "
            f"(select *, count(*) over (partition by {part}) as __n from {{batch}}) as k where __n > 1"
        ),
        meta=_meta(
            RULE_KEY_UNIQUE,
            key,
            f"Key ({', '.join(key)}) = {shown} appears more than once in this file; keys must be unique.",
        ),
    )


def build_suite(contract: Contract) -> gx.ExpectationSuite:
    expectations: list[gxe.Expectation] = []
    for col in contract.columns:
        expectations.extend(column_expectations(contract, col))
    trimmed = trimmed_expectation(contract)
    if trimmed is not None:
        expectations.append(trimmed)
    expectations.append(key_expectation(contract))
    for e in expectations:
        assert e.meta is not None  # every generated expectation is built with meta (_meta)
        e.meta["filing_type"] = contract.filing_type
    return gx.ExpectationSuite(
        name=suite_name(contract.filing_type),
        expectations=expectations,
        meta={
            "generated_from": f"pipelines/contracts/{contract.filing_type}.yml",
            "index_columns": index_columns(contract),
        },
    )


@cache
def build_suites() -> dict[str, gx.ExpectationSuite]:
    """Every filing type's validity suite, derived from the contracts."""
    return {ft: build_suite(c) for ft, c in load_contracts().items()}


def suite_json(suite: gx.ExpectationSuite) -> dict:
    """A suite as stored, without the ids GX assigns when it saves (so the comparison is stable)."""
    d: dict[str, Any] = suite.to_json_dict()  # a JSON document: "expectations" is a list of dicts
    d.pop("id", None)
    for e in d.get("expectations", []):
        e.pop("id", None)
    d.pop("notes", None)
    return json.loads(json.dumps(d, sort_keys=True))


def suites_dir(root: Path = GX_PROJECT_ROOT) -> Path:
    """Where the file context stores the suites (GX turns the dot of ``validity.x`` into a folder)."""
    return root / "gx" / "expectations" / SUITE_PREFIX.rstrip(".")


def file_context(root: Path = GX_PROJECT_ROOT):
    return gx.get_context(mode="file", project_root_dir=str(root))


def write_suites(root: Path = GX_PROJECT_ROOT) -> list[Path]:
    """(Re)write the generated suites into the GX file context under ``root``; drop stale ones.

    The JSON is written directly (sorted keys, no GX-assigned ids) so regenerating an unchanged
    contract gives byte-identical files; GX loads them as ordinary stored suites.
    """
    file_context(root)  # creates the project (great_expectations.yml, stores) when missing
    folder = suites_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    wanted = build_suites()
    for path in folder.glob("*.json"):
        if path.stem not in wanted:
            path.unlink()
    for ft, suite in wanted.items():
        text = json.dumps(suite_json(suite), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        path = folder / f"{ft}.json"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return sorted(folder.glob("*.json"))


def stored_suites(root: Path = GX_PROJECT_ROOT) -> dict[str, dict]:
    """The checked-in suites, as :func:`suite_json` dictionaries keyed by filing type."""
    out = {}
    for path in sorted(suites_dir(root).glob("*.json")):
        d = json.loads(path.read_text(encoding="utf-8"))
        suite = gx.ExpectationSuite(**{k: v for k, v in d.items() if k in ("name", "expectations", "meta")})
        out[suite.name[len(SUITE_PREFIX) :]] = suite_json(suite)
    return out


def main(argv: list[str] | None = None) -> int:
    paths = write_suites()
    for p in paths:
        print(p.relative_to(GX_PROJECT_ROOT.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
