"""Code and the published rule catalog agree (rules.md: a test fails when they differ)."""

from __future__ import annotations

from pipelines.contracts import FILING_TYPES
from pipelines.quality.catalog import load_catalog
from pipelines.quality.rules import sql_rules
from pipelines.quality.suites import GENERATED_RULE_IDS, build_suites

X_RULE_FQ = "FQ-004"


def _v_rules():
    return {rid: r for rid, r in load_catalog().items() if r.stage == "V"}


def _code_filing_types() -> dict[str, set[str]]:
    """rule id -> filing types it is evaluated on, collected from the suites' meta and the SQL registry."""
    used: dict[str, set[str]] = {}
    for ft, suite in build_suites().items():
        for e in suite.expectations:
            used.setdefault(e.meta["rule_id"], set()).add(ft)
    for r in sql_rules("V"):
        assert r.rule_id not in used, f"{r.rule_id} is both generated and written in SQL"
        used.setdefault(r.rule_id, set()).update(r.filing_types)
    return used


def test_every_rule_in_code_is_in_the_catalog_and_back():
    code = set(_code_filing_types())
    catalog = set(_v_rules())
    assert code - catalog == set(), f"rules in code but not in catalog/validity.yml: {sorted(code - catalog)}"
    assert catalog - code == set(), f"catalog rules with no implementation: {sorted(catalog - code)}"


def test_generated_and_sql_rule_ids_do_not_overlap():
    sql_ids = [r.rule_id for r in sql_rules("V")]
    assert len(sql_ids) == len(set(sql_ids))
    assert set(sql_ids).isdisjoint(GENERATED_RULE_IDS)
    used_in_suites = {e.meta["rule_id"] for s in build_suites().values() for e in s.expectations}
    assert used_in_suites == set(GENERATED_RULE_IDS)


def test_stage_severity_and_fields():
    for rid, r in _v_rules().items():
        assert rid.startswith("V") and len(rid) == 4 and rid[1:].isdigit(), rid
        assert r.stage == "V", rid
        assert r.severity == "error", rid  # every validity finding rejects the submission
        assert r.since == "1.0" and r.shadow is False, rid
        assert r.title and r.description and r.source, rid
        if r.x_rule:
            assert r.fq_id == X_RULE_FQ, f"{rid} implements {r.x_rule}: FQ-004 reads it"


def test_catalog_filing_types_match_code():
    used = _code_filing_types()
    for rid, r in _v_rules().items():
        if r.filing_types == ("*",):
            assert used[rid] == set(FILING_TYPES), f"{rid} is '*' but runs only on {sorted(used[rid])}"
        else:
            assert set(r.filing_types) == used[rid], (
                f"{rid}: catalog {r.filing_types} vs code {sorted(used[rid])}"
            )


def test_completeness_rules_feed_fq_003():
    # FQ-003 reads the findings for null required fields and for missing expected rows
    catalog = _v_rules()
    assert {rid for rid, r in catalog.items() if r.fq_id == "FQ-003"} == {"V001", "V002", "V027", "V030"}
