"""One rule model: every catalog rule has exactly one definition (a generated GX expectation for the V column
checks, a registered check for S rules - pipelines/intake/syntax.py, more in test_catalog_syntax.py -, a
registered SQL definition otherwise) and every definition a catalog entry; the runner picks up every registered rule of its stage; and the worked example of
docs/dev-interfaces.md ("Adding a V rule") is true: its catalog entry and its SQL definition, and nothing
else, make a rule the runner evaluates."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import yaml

from pipelines.quality import rules, runner, stages
from pipelines.quality.catalog import Rule as CatalogEntry
from pipelines.quality.catalog import load_catalog
from pipelines.quality.suites import GENERATED_RULE_IDS
from pipelines.quality.validity import applicable_rules
from pipelines.warehouse.schema import create_schema

DOC = Path(__file__).resolve().parents[2] / "docs" / "dev-interfaces.md"


def test_every_catalog_rule_has_one_definition_and_back() -> None:
    catalog = load_catalog()
    defined = rules.definitions()
    assert set(defined) <= set(catalog), f"definitions without a catalog entry: {set(defined) - set(catalog)}"
    assert set(defined).isdisjoint(GENERATED_RULE_IDS)
    for stage in "SVQM":
        in_catalog = {rid for rid, r in catalog.items() if r.stage == stage}
        implemented = {r.rule_id for r in (rules.syntax_rules() if stage == "S" else rules.sql_rules(stage))}
        if stage == "V":
            implemented |= set(GENERATED_RULE_IDS)
        assert implemented == in_catalog, (stage, in_catalog ^ implemented)


def test_the_stages_run_every_registered_rule() -> None:
    assert [r.rule_id for r in stages.QUALITY_RULES] == sorted(
        rid for rid, r in load_catalog().items() if r.stage == "Q"
    )
    assert [r.rule_id for r in stages.MACRO_RULES] == sorted(
        rid for rid, r in load_catalog().items() if r.stage == "M"
    )
    for r in rules.sql_rules("V"):
        assert r.sql().lstrip().lower().startswith(("select", "with")), r.rule_id


def _example() -> tuple[dict, str]:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("### Adding a V rule") :]
    entry = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    return yaml.safe_load(entry)[0], code


def test_the_worked_example_of_dev_interfaces_adds_a_rule(tmp_path) -> None:
    entry, code = _example()
    rule_id = entry["rule_id"]
    catalog = load_catalog()
    assert rule_id not in catalog and rule_id not in rules.definitions()
    catalog[rule_id] = CatalogEntry(**{**entry, "filing_types": tuple(entry["filing_types"])})
    rules.sql_rules.cache_clear()
    try:
        namespace = {name: getattr(rules, name) for name in ("sql_rule", "rk", "fields", "msg", "src", "cur")}
        exec(code, namespace)
        assert rule_id in [r.rule_id for r in rules.sql_rules("V")]
        sid = "P2P0001-2026-10-v1"
        assert rule_id in applicable_rules(sid)
        assert rule_id not in applicable_rules("PAY0001-2026-10-v1")  # PAY files no loans

        con = duckdb.connect(str(tmp_path / "w.duckdb"))
        create_schema(con)
        for row, (orig, mat) in enumerate([("2026-01-05", "2027-01-05"), ("2026-03-01", "2026-02-01")], 1):
            con.execute(
                "insert into raw.loans (submission_id, _row, loan_id, origination_date, maturity_date) "
                "values (?, ?, ?, ?, ?)",
                [sid, row, f"L{row}", date.fromisoformat(orig), date.fromisoformat(mat)],
            )
        ev = runner.evaluate(con, [rules.rule(rule_id)], [sid])
        con.close()
        assert ev.counts == {(sid, rule_id): 1}
        (f,) = ev.findings
        assert (f.row_number, f.filing_type, f.rule_id) == (2, "loans", rule_id)
        assert f.message == "maturity_date 2026-02-01 is before origination_date 2026-03-01."
    finally:
        del catalog[rule_id]
        rules._DEFINITIONS.pop(rule_id, None)
        rules.sql_rules.cache_clear()


def test_a_shadow_error_rule_records_findings_without_counting_them(tmp_path) -> None:
    from datetime import UTC, datetime

    catalog = load_catalog()
    base = dict(stage="M", severity="error", filing_types=("enterprise_profile",), title="t", description="d")
    sid = "PAY0001-2026-10-v1"
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    create_schema(con)
    con.execute(
        "insert into raw.enterprise_profile (submission_id, _row, enterprise_id) values (?, 1, 'PAY0001')",
        [sid],
    )
    sql = f"""select submission_id, 'enterprise_profile' as filing_type, _row, null::varchar as record_key,
        [] as fields, 'always' as message from {rules.cur("enterprise_profile")}"""
    try:
        for rule_id, shadow in (("M098", False), ("M099", True)):
            catalog[rule_id] = CatalogEntry(rule_id=rule_id, shadow=shadow, **base)
            rules.sql_rule(rule_id, sql)
        errors = runner.run_rules(
            con, [rules.rule("M098"), rules.rule("M099")], [sid], found_at=datetime(2026, 11, 11, tzinfo=UTC)
        )
        assert errors == {sid: 1}  # the live rule's finding only
        got = con.execute("select rule_id, shadow from quality.findings order by rule_id").fetchall()
        assert got == [("M098", False), ("M099", True)]
        results = con.execute(
            "select rule_id, status, finding_count from quality.rule_results order by 1"
        ).fetchall()
        assert results == [("M098", "FAIL", 1), ("M099", "FAIL", 1)]
    finally:
        con.close()
        for rule_id in ("M098", "M099"):
            catalog.pop(rule_id, None)
            rules._DEFINITIONS.pop(rule_id, None)
        rules.sql_rules.cache_clear()


def test_finding_ids_follow_submission_row_and_key_not_thread_order(tmp_path) -> None:
    """Two runs of the same cycle number the same findings alike: the runner writes a rule's findings in
    (submission, row, record key, message) order (it wrote them in DuckDB's window-partition order before,
    which differed between runs: docs/reliability.md)."""
    from datetime import UTC, datetime

    catalog = load_catalog()
    sids = [f"PAY{n:04d}-2026-10-v1" for n in range(1, 41)]
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    create_schema(con)
    for sid in reversed(sids):
        for row in (3, 1, 2):
            con.execute(
                "insert into raw.enterprise_profile (submission_id, _row, enterprise_id) values (?, ?, ?)",
                [sid, row, sid[:7]],
            )
    sql = f"""select submission_id, 'enterprise_profile' as filing_type, _row, _row::varchar as record_key,
        [] as fields, 'row ' || _row as message from {rules.cur("enterprise_profile")}"""
    try:
        catalog["M097"] = CatalogEntry(
            rule_id="M097",
            stage="M",
            severity="warning",
            filing_types=("enterprise_profile",),
            title="t",
            description="d",
        )
        rules.sql_rule("M097", sql)
        runner.run_rules(con, [rules.rule("M097")], sids, found_at=datetime(2026, 11, 11, tzinfo=UTC))
        got = con.execute(
            "select submission_id, row_number from quality.findings order by finding_id"
        ).fetchall()
        assert got == [(sid, row) for sid in sids for row in (1, 2, 3)]
    finally:
        con.close()
        catalog.pop("M097", None)
        rules._DEFINITIONS.pop("M097", None)
        rules.sql_rules.cache_clear()
