"""The validity stage (V rules): Great Expectations suites generated from the contracts + SQL rules.

    run_validity_stage(con, db_path, submission_ids, found_at=..., attempt_of=...) -> {submission_id: errors}

How it runs, per call (a cycle may hand over hundreds of just-loaded submissions at once):

* **GX, once per filing type.** The batch is ``raw.<filing_type>`` filtered to the given submissions
  (a GX query asset); the generated suite ``validity.<filing_type>`` runs on it inside DuckDB. GX decides
  which expectations fail; for those only, the failing rows are fetched in DuckDB with GX's own query:
  the ``unexpected_rows_query`` of an unexpected-rows expectation, the ``unexpected_index_query`` GX
  returns for a column-map expectation (index columns: submission, row, key; see
  :func:`pipelines.quality.gx_duckdb.runnable_index_query`). They are capped per submission with the true
  count kept, and the total must equal GX's unexpected count (else the stage fails).
* **SQL rules** (the V rules of :mod:`pipelines.quality.sql_rules`): run by the one rule runner
  (:mod:`pipelines.quality.runner`), one query each over the submissions it applies to.
* Findings and one ``quality.rule_results`` row per submission x applicable rule are written by
  :func:`pipelines.quality.runner.write`, in one transaction when the caller has none open.

GX runs on cursors of the caller's connection (:mod:`pipelines.quality.gx_duckdb`), so it sees what
``con`` has committed: **commit the loaded rows before calling** (the SQL rules would see an open
transaction's rows, GX would not).

A rule applies to a submission when its enterprise type owes the files the rule reads
(``dbt_project/seeds/filing_requirements.csv``); rules that do not apply get no rule_results row.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from string import Formatter
from typing import TYPE_CHECKING

import duckdb

from pipelines.contracts import load_contracts
from pipelines.quality import gx_duckdb, runner
from pipelines.quality.catalog import rule as catalog_rule
from pipelines.quality.findings import FINDING_CAP, Finding, RuleResult
from pipelines.quality.rules import rk, sql_rules
from pipelines.quality.runner import ent_type_of, owed_filing_types
from pipelines.quality.suites import build_suites, index_columns

if TYPE_CHECKING:  # not at run time: gx_duckdb must set GX_ANALYTICS_ENABLED before GX is imported
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

log = logging.getLogger(__name__)

__all__ = ["applicable_rules", "ent_type_of", "owed_filing_types", "run_validity_stage", "validate"]


def result_format(filing_type: str) -> dict:
    """BASIC: success and unexpected counts, no rows fetched by GX (partial lists empty); column-map
    expectations also return their ``unexpected_index_query`` over the row's identity."""
    return {
        "result_format": "BASIC",
        "partial_unexpected_count": 0,
        "unexpected_index_column_names": index_columns(load_contracts()[filing_type]),
        "return_unexpected_index_query": True,
    }


class ValidityStageError(RuntimeError):
    """A check could not be evaluated (a broken query, an unreadable table): not a filing error."""


@dataclass
class CheckOutcome:
    """The result of one check (one expectation or one SQL rule) over all submissions of the call."""

    rule_id: str
    source: str  # "gx:<filing_type>" or "sql"
    counts: dict[str, int] = field(default_factory=dict)  # true count per submission
    findings: list[Finding] = field(default_factory=list)  # capped per submission
    gx_count: int | None = None  # GX's own unexpected count, for the consistency check


@dataclass
class ValidityOutcome:
    submission_ids: list[str]
    checks: list[CheckOutcome]
    applicable: dict[str, list[str]]  # submission -> rule ids that apply
    timings: dict[str, float]

    def counts(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = defaultdict(int)
        for c in self.checks:
            for sid, n in c.counts.items():
                out[(sid, c.rule_id)] += n
        return out

    def findings(self) -> list[Finding]:
        return [f for c in self.checks for f in c.findings]


# ----------------------------------------------------------------------------------------------------
# which rules apply (the enterprise type owes the files they read)


@cache
def gx_rule_filing_types() -> dict[str, frozenset[str]]:
    """rule id -> filing types whose generated suite has an expectation of that rule."""
    out: dict[str, set[str]] = defaultdict(set)
    for ft, suite in build_suites().items():
        for e in suite.expectations:
            assert e.meta is not None  # every generated expectation carries its rule_id in meta
            out[e.meta["rule_id"]].add(ft)
    return {k: frozenset(v) for k, v in out.items()}


def applicable_rules(submission_id: str) -> list[str]:
    ent = ent_type_of(submission_id)
    owed = owed_filing_types().get(ent, frozenset())
    rules = [r for r, fts in gx_rule_filing_types().items() if fts & owed]
    rules += [r.rule_id for r in sql_rules("V") if r.applies(ent, owed)]
    return sorted(rules)


# ----------------------------------------------------------------------------------------------------
# helpers


def _lit(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _in_list(submission_ids: Sequence[str]) -> str:
    return ", ".join(_lit(s) for s in submission_ids)


def batch_sql(filing_type: str, submission_ids: Sequence[str]) -> str:
    """The GX batch: the raw rows of one filing type for the given submissions."""
    return f"select * from raw.{filing_type} where submission_id in ({_in_list(submission_ids)})"


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _show(value: object) -> str:
    if value is None:
        return "(empty)"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def fill_message(template: str, values: Mapping[str, object]) -> str:
    try:
        return Formatter().vformat(template, (), _Blank({k: _show(v) for k, v in values.items()}))
    except (ValueError, IndexError):
        return template


def _capped(inner: str, order: str) -> str:
    return f"""select *, count(*) over (partition by submission_id) as __n
    from ({inner}) as __f
    qualify row_number() over (partition by submission_id order by {order}) <= {FINDING_CAP}"""


def _fetch(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    rel = con.sql(sql)
    cols = rel.columns
    return [dict(zip(cols, row, strict=True)) for row in rel.fetchall()]


# ----------------------------------------------------------------------------------------------------
# GX


def _raised(exception_info) -> str | None:
    """The first exception message in a GX result's exception_info (flat or keyed by metric)."""
    if not exception_info:
        return None
    if isinstance(exception_info, Mapping):
        if exception_info.get("raised_exception"):
            return str(exception_info.get("exception_message"))
        for v in exception_info.values():
            if isinstance(v, Mapping) and v.get("raised_exception"):
                return str(v.get("exception_message"))
    return None


def _gx_count(result) -> int | None:
    res = result.result or {}
    for key in ("unexpected_count", "observed_value"):
        if isinstance(res.get(key), int):
            return res[key]
    return None


@dataclass
class GxFailure:
    """A failing expectation: its configuration, GX's unexpected count and its failing-rows query."""

    filing_type: str
    config: ExpectationConfiguration
    gx_count: int | None
    rows_query: str  # over the batch: GX's unexpected_rows_query or its unexpected_index_query


def failing_rows_query(filing_type: str, config, result: Mapping, submission_ids: Sequence[str]) -> str:
    """The SQL selecting the rows GX found unexpected, from GX's own definitions: an unexpected-rows
    expectation's query over the batch, or the ``unexpected_index_query`` GX returned."""
    asset_query = batch_sql(filing_type, submission_ids)
    if config.type == "unexpected_rows_expectation":
        return config.kwargs["unexpected_rows_query"].format(batch=f"({asset_query}) as batch")
    query = result.get("unexpected_index_query")
    if not isinstance(query, str):
        raise ValidityStageError(f"GX returned no unexpected_index_query for {config.type} on {filing_type}")
    return gx_duckdb.runnable_index_query(query, asset_query)


def _gx_failing(
    con: duckdb.DuckDBPyConnection,
    db_path: Path | None,
    submission_ids: Sequence[str],
    timings: dict[str, float],
) -> list[GxFailure]:
    """Run every filing type's suite once over the given submissions; return the failing expectations."""
    suites = build_suites()
    in_list = _in_list(submission_ids)
    failing: list[GxFailure] = []
    context = gx_duckdb.ephemeral_context()
    with gx_duckdb.duckdb_datasource(context, con, db_path) as datasource:
        for ft, suite in suites.items():
            t0 = time.perf_counter()
            n = con.sql(f"select count(*) from raw.{ft} where submission_id in ({in_list})").fetchall()[0][0]
            if n == 0:
                continue
            asset = datasource.add_query_asset(name=ft, query=batch_sql(ft, submission_ids))
            batch = asset.add_batch_definition_whole_table(name="submissions").get_batch()
            result = batch.validate(suite, result_format=result_format(ft))
            for r in result.results:
                err = _raised(r.exception_info)
                cfg = r.expectation_config
                if err is not None:
                    assert cfg is not None  # GX gives every result of a suite validation its expectation
                    raise ValidityStageError(
                        f"GX could not evaluate {cfg.type} ({cfg.meta.get('rule_id')}) on {ft}: {err}"
                    )
                if not r.success:
                    assert cfg is not None
                    query = failing_rows_query(ft, cfg, r.result or {}, submission_ids)
                    failing.append(GxFailure(ft, cfg, _gx_count(r), query))
            timings[f"gx:{ft}"] = time.perf_counter() - t0
    return failing


def _finding_fields(row: Mapping, meta: Mapping, fields: list[str]) -> list[tuple[str, object]]:
    if meta.get("fields_column"):
        return [(f["field"], f["value"]) for f in row.get(meta["fields_column"]) or []]
    return [(f, row.get(f)) for f in fields]


def _gx_outcome(con: duckdb.DuckDBPyConnection, failure: GxFailure) -> CheckOutcome:
    ft, config, gx_count = failure.filing_type, failure.config, failure.gx_count
    meta = config.meta
    fields = list(meta["fields"])
    sql = _capped(f"select *, {rk(ft)} as __record_key from ({failure.rows_query}) as __i", "_row")
    outcome = CheckOutcome(rule_id=meta["rule_id"], source=f"gx:{ft}", gx_count=gx_count)
    for row in _fetch(con, sql):
        sid = row["submission_id"]
        outcome.counts[sid] = row["__n"]
        outcome.findings.append(
            Finding(
                submission_id=sid,
                rule_id=outcome.rule_id,
                message=fill_message(meta["message"], row),
                filing_type=ft,
                row_number=row["_row"],
                record_key=row["__record_key"],
                fields=_finding_fields(row, meta, fields),
            )
        )
    total = sum(outcome.counts.values())
    if gx_count is not None and total != gx_count:
        raise ValidityStageError(
            f"{outcome.rule_id} on {ft}: GX counted {gx_count} unexpected rows, its failing-rows query {total}"
        )
    return outcome


# ----------------------------------------------------------------------------------------------------
# the stage


def validate(
    con: duckdb.DuckDBPyConnection, db_path: Path | str | None, submission_ids: Sequence[str]
) -> ValidityOutcome:
    """Evaluate every V rule on the given submissions; write nothing but a temp table on ``con``."""
    sids = list(dict.fromkeys(submission_ids))
    timings: dict[str, float] = {}
    applicable = {sid: applicable_rules(sid) for sid in sids}
    checks: list[CheckOutcome] = []
    if not sids:
        return ValidityOutcome(sids, checks, applicable, timings)
    t0 = time.perf_counter()
    failing = _gx_failing(con, Path(db_path) if db_path else None, sids, timings)
    timings["gx"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    checks += [_gx_outcome(con, f) for f in failing]
    timings["gx_findings"] = time.perf_counter() - t1
    try:
        ev = runner.evaluate(con, sql_rules("V"), sids, timings=timings)
    except runner.RuleError as exc:
        raise ValidityStageError(str(exc)) from exc
    by_rule: dict[str, CheckOutcome] = {}
    for sid, rule_id in ev.run:
        check = by_rule.setdefault(rule_id, CheckOutcome(rule_id=rule_id, source="sql"))
        if ev.counts[(sid, rule_id)]:
            check.counts[sid] = ev.counts[(sid, rule_id)]
    for f in ev.findings:
        by_rule[f.rule_id].findings.append(f)
    checks += by_rule.values()
    timings["sql"] = sum(v for k, v in timings.items() if k.startswith("sql:"))
    return ValidityOutcome(sids, checks, applicable, timings)


def run_validity_stage(
    con: duckdb.DuckDBPyConnection,
    db_path: Path,
    submission_ids: Sequence[str],
    *,
    found_at: datetime,
    attempt_of: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Validate the raw rows of the given (loaded and committed) submissions; record findings and rule
    results; return the number of error findings (true counts, live rules) per submission: 0 = passed."""
    outcome = validate(con, db_path, submission_ids)
    counts = outcome.counts()
    attempt_of = attempt_of or {}
    errors: dict[str, int] = {}
    results: list[RuleResult] = []
    for sid in outcome.submission_ids:
        attempt = attempt_of.get(sid, 1)
        errors[sid] = 0
        for rule_id in outcome.applicable[sid]:
            n = counts.get((sid, rule_id), 0)
            results.append(RuleResult(sid, rule_id, n, attempt))
            r = catalog_rule(rule_id)
            if r.severity == "error" and not r.shadow:
                errors[sid] += n
    t0 = time.perf_counter()
    runner.write(
        con,
        outcome.findings(),
        results,
        found_at=found_at,
        attempt_of=attempt_of,
        order=outcome.submission_ids,
        checkpoint="validity.write",
    )
    outcome.timings["write"] = time.perf_counter() - t0
    log.info(
        "validity stage on %d submissions: %s",
        len(outcome.submission_ids),
        {k: round(v, 3) for k, v in outcome.timings.items() if ":" not in k},
    )
    return errors
