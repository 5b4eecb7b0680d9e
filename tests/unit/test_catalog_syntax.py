"""Code and catalog agree on the syntactical (S) rules, through the rule registry: every catalog S rule has
exactly one registered check (pipelines/intake/syntax.py) and every check a catalog S entry; every read
failure the intake raises is claimed by exactly one S rule; and no intake module writes an S rule id of its
own. The registered checks are called, not just listed: each returns problems stamped with its rule id."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import get_args

import pytest

from pipelines.intake import syntax
from pipelines.intake.manifest import FileEntry
from pipelines.intake.problems import Failure, problem
from pipelines.quality import rules
from pipelines.quality.catalog import Rule as CatalogEntry
from pipelines.quality.catalog import load_catalog

INTAKE = Path(__file__).resolve().parents[2] / "pipelines" / "intake"


def _catalog_s() -> set[str]:
    return {r for r, rule in load_catalog().items() if rule.stage == "S"}


def test_every_catalog_s_rule_has_one_registered_check_and_back() -> None:
    registered = [r.rule_id for r in rules.syntax_rules()]
    assert len(registered) == len(set(registered))
    assert set(registered) == _catalog_s(), {
        "catalog only": _catalog_s() - set(registered),
        "registered only": set(registered) - _catalog_s(),
    }
    for r in rules.syntax_rules():
        d = r.definition
        assert isinstance(d, rules.CheckDefinition) and r.stage == "S" and r.severity == "error"
        assert d.check is not None or d.claims, r.rule_id


def test_every_failure_kind_is_claimed_by_exactly_one_s_rule() -> None:
    claims = [k for r in rules.syntax_rules() for k in r.definition.claims]  # type: ignore[union-attr]
    assert len(claims) == len(set(claims)), "a failure kind claimed twice"
    assert set(claims) == set(get_args(Failure))
    assert problem("encoding", "x").rule_id == "S013"
    assert problem("changed_while_read", "x").rule_id == "S009"


def test_a_check_without_catalog_entry_or_a_second_definition_is_refused() -> None:
    with pytest.raises(ValueError, match="two definitions"):
        syntax.check("S010")(lambda: [])
    with pytest.raises(ValueError, match="already claimed"):
        rules.syntax_rule("S099", claims=("format",))(None)
    assert "S099" not in rules.definitions()
    syntax.check("S098")(lambda: [])
    try:
        rules.syntax_rules.cache_clear()
        with pytest.raises(KeyError, match="S098"):  # registered, but the catalog has no S098
            rules.syntax_rules()
    finally:
        rules._DEFINITIONS.pop("S098", None)
        rules.syntax_rules.cache_clear()


def test_a_new_catalog_s_rule_without_a_check_is_missing_from_the_registry() -> None:
    catalog = load_catalog()
    catalog["S098"] = CatalogEntry(
        rule_id="S098", stage="S", severity="error", filing_types=("*",), title="t", description="d"
    )
    try:
        assert "S098" in _catalog_s() - {r.rule_id for r in rules.syntax_rules()}
    finally:
        del catalog["S098"]


def test_no_intake_module_writes_an_s_rule_id_outside_the_registrations() -> None:
    """The ids live in the @check / claims() registrations of syntax.py (and its docstring example)."""
    for path in sorted(INTAKE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        allowed: set[int] = set()
        if path.name == "syntax.py":
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("check", "claims"):
                    allowed |= {id(a) for a in node.args[:1]}
        found = [
            (path.name, node.lineno, node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and re.fullmatch(r"S[0-9]{3}", node.value)
            and id(node) not in allowed
        ]
        assert not found, found


def _entry(**over: object) -> FileEntry:
    base: dict = dict(
        filing_type="transactions",
        path="transactions.csv",
        format="csv",
        compression="none",
        encoding="utf-8",
        sha256="a" * 64,
        row_count=2,
        control_totals={"amount_cny": Decimal("3.00")},
    )
    return FileEntry(**{**base, **over})


def test_the_registered_checks_return_problems_of_their_rule(tmp_path) -> None:
    present = tmp_path / "transactions.csv"
    present.write_text("x\n")
    ok = syntax.ListedFile(_entry(), present, "a" * 64)
    assert syntax.listed_file_present(ok) == syntax.checksum(ok) == []
    assert syntax.format_and_compression(ok) == syntax.character_encoding(ok) == []

    (p,) = syntax.listed_file_present(syntax.ListedFile(_entry(), None, None))
    assert p.rule_id == "S007" and "escapes the package" in p.message
    (p,) = syntax.listed_file_present(syntax.ListedFile(_entry(), tmp_path / "absent.csv", None))
    assert p.rule_id == "S007" and p.filing_type == "transactions"
    (p,) = syntax.checksum(syntax.ListedFile(_entry(), present, "b" * 64))
    assert (p.rule_id, p.fields) == ("S009", [("sha256", "b" * 64)])
    gz = syntax.ListedFile(_entry(format="parquet", compression="gzip"), present, None)
    assert [p.rule_id for p in syntax.format_and_compression(gz)] == ["S012", "S012"]
    (p,) = syntax.character_encoding(syntax.ListedFile(_entry(format="jsonl", encoding="gbk"), present, None))
    assert p.rule_id == "S013"

    (tmp_path / "notes.txt").write_text("x")
    (p,) = syntax.no_unlisted_files(tmp_path, {present})
    assert p.rule_id == "S008" and p.message.startswith("notes.txt is in the package")


def test_the_staged_checks_run_on_a_staged_table() -> None:
    import duckdb

    from pipelines.contracts import load_contracts

    contract = load_contracts()["transactions"]
    con = duckdb.connect()
    cols = ", ".join(f"null::varchar as {c}" for c in contract.column_names if c != "amount_cny")
    con.execute(
        f"create temp table stg as select * from (values (1, '1.00'), (2, 'x')) t(_row, amount_cny), "
        f"(select {cols})"
    )
    staged = syntax.StagedCheck(con, "stg", 2, contract, _entry(row_count=3))
    got = syntax.check_staged(staged)
    assert [p.rule_id for p in got] == ["S010", "S015"]  # the total of a column with a bad value: S015 only
    assert got[1].row_number == 2 and got[1].fields == [("amount_cny", "x")]
    con.execute("update stg set amount_cny = '2.00' where _row = 2")
    staged = syntax.StagedCheck(con, "stg", 2, contract, _entry(control_totals={"amount_cny": Decimal(4)}))
    (p,) = syntax.check_staged(staged)
    assert p.rule_id == "S011" and p.fields == [("amount_cny", "3.00")]


def test_the_manifest_checks_run_in_order_and_the_first_problem_is_raised() -> None:
    import json

    from pipelines.intake.manifest import ManifestError, parse_manifest
    from tests.support import EXAMPLES

    good = json.loads(
        (EXAMPLES / "PAY0001" / "PAY0001-2026-10-v1" / "manifest.json").read_text(encoding="utf-8")
    )
    assert parse_manifest(json.dumps(good).encode()).enterprise_id == "PAY0001"
    (p,) = syntax.manifest_is_json(b"{not json")
    assert p.rule_id == "S001" and p.message.startswith("manifest.json is not valid UTF-8 JSON")
    assert syntax.manifest_is_json(b'{"a": "\\ud800"}')[0].rule_id == "S001"
    assert syntax.manifest_follows_schema([])[0].message == "manifest.json must hold a JSON object"

    def error(doc: dict) -> tuple[str, str]:
        with pytest.raises(ManifestError) as exc:
            parse_manifest(json.dumps(doc).encode())
        return exc.value.rule_id, str(exc.value)

    bad_time = {**good, "submitted_at": "2026-13-45T25:61:00+08:00"}
    assert error(bad_time)[0] == "S002"
    # an unsupported spec_version is reported before an impossible submitted_at, as always
    assert error({**bad_time, "spec_version": "2.0"}) == (
        "S003",
        "spec_version '2.0' is not supported; use one of ('1.0',)",
    )
    assert error({**good, "spec_version": 2})[0] == "S002"  # the schema first
    with pytest.raises(ManifestError) as exc:
        parse_manifest(b"[" * 100_000 + b"]" * 100_000)
    assert exc.value.rule_id == "S001" and exc.value.unreadable and exc.value.kind == "manifest_unreadable"


def test_the_column_set_check_stops_the_read() -> None:
    from pipelines.contracts import load_contracts
    from pipelines.intake.readers import FileProblem, check_columns

    contract = load_contracts()["incidents"]
    check_columns(list(reversed(contract.column_names)), contract)  # any order
    with pytest.raises(FileProblem) as exc:
        check_columns([*contract.column_names[1:], "comment", "comment"], contract)
    assert exc.value.rule_id == "S014"
    assert str(exc.value) == (
        f"missing column(s) {contract.column_names[0]}; unknown column(s) 'comment', 'comment'; "
        "repeated column(s) comment: the incidents file must have exactly the contract's columns"
    )


def test_period_check_uses_the_calendar() -> None:
    from pipelines.intake.manifest import Manifest

    def manifest(period: str) -> Manifest:
        return Manifest("1.0", f"PAY0001-{period}-v1", "PAY0001", period, 1, None, datetime.now(UTC), (), {})

    assert syntax.period_in_calendar(manifest("2026-10"), datetime(2026, 11, 21, tzinfo=UTC)) == []
    (p,) = syntax.period_in_calendar(manifest("1999-12"), datetime(2026, 11, 21, tzinfo=UTC))
    assert p.rule_id == "S016"


DOC = Path(__file__).resolve().parents[2] / "docs" / "dev-interfaces.md"


def test_the_worked_example_of_dev_interfaces_adds_an_s_rule() -> None:
    """docs/dev-interfaces.md "Adding an S rule": its catalog entry and its check make a registered S rule
    whose problems carry its id."""
    import yaml

    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("### Adding an S rule") :]
    entry = yaml.safe_load(re.search(r"```yaml\n(.*?)```", section, re.S).group(1))[0]  # type: ignore[union-attr]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]
    rule_id = entry["rule_id"]
    catalog = load_catalog()
    assert rule_id not in catalog and rule_id not in rules.definitions()
    catalog[rule_id] = CatalogEntry(**{**entry, "filing_types": tuple(entry["filing_types"])})
    try:
        namespace = {name: getattr(syntax, name) for name in ("check", "issue", "ListedFile", "Problem")}
        exec(code, {**namespace, "re": re})
        rules.syntax_rules.cache_clear()
        assert rule_id in [r.rule_id for r in rules.syntax_rules()]
        fn = rules.rule(rule_id).definition.check  # type: ignore[union-attr]
        assert fn(syntax.ListedFile(_entry(), None, None)) == []
        (p,) = fn(syntax.ListedFile(_entry(path="交易 10月.csv"), None, None))
        assert (p.rule_id, p.filing_type) == (rule_id, "transactions")
    finally:
        del catalog[rule_id]
        rules._DEFINITIONS.pop(rule_id, None)
        rules.syntax_rules.cache_clear()
        rules.claimed_by.cache_clear()
