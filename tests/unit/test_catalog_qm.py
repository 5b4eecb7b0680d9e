"""Code and catalog agree for the warehouse rule stages (Q and M): ids, stages, filing types, fields."""

from __future__ import annotations

from pipelines.contracts import FILING_TYPES
from pipelines.quality.catalog import load_catalog
from pipelines.quality.stages import MACRO_RULES, QUALITY_RULES, WAREHOUSE_RULES


def _catalog(stages: str) -> dict:
    return {rid: r for rid, r in load_catalog().items() if r.stage in stages}


def test_every_q_and_m_rule_in_code_is_in_the_catalog_and_back():
    code = [r.rule_id for r in WAREHOUSE_RULES]
    assert len(code) == len(set(code))
    assert set(code) == set(_catalog("QM"))
    assert {r.rule_id for r in QUALITY_RULES} == set(_catalog("Q"))
    assert {r.rule_id for r in MACRO_RULES} == set(_catalog("M"))


def test_filing_types_and_fields_match():
    catalog = _catalog("QM")
    for r in WAREHOUSE_RULES:
        c = catalog[r.rule_id]
        assert c.filing_types == r.filing_types, r.rule_id
        assert set(r.reads) <= set(FILING_TYPES), r.rule_id
        assert c.title and c.description and c.source and c.since == "1.0", r.rule_id
        if c.x_rule and c.x_rule != "X-16":
            assert c.fq_id == "FQ-004", f"{r.rule_id} implements {c.x_rule}: FQ-004 reads it"


def test_stage_and_severity_follow_rules_md():
    # rules.md: Q = warnings; M errors for and X-08 (earlier periods), warnings for the others
    severities = {rid: r.severity for rid, r in _catalog("QM").items()}
    x_rules = {rid: r.x_rule for rid, r in _catalog("QM").items()}
    assert all(severities[rid] == "warning" for rid in _catalog("Q"))
    errors = {x_rules[rid] for rid, s in severities.items() if s == "error"}
    assert errors == {"X-01", "X-05", "X-08"}
    assert {x_rules[rid] for rid, s in severities.items() if s == "warning" and x_rules[rid]} == {
        "X-03",
        "X-04",
        "X-12",
        "X-13",
        "X-16",
    }
    fq = {r.fq_id for r in _catalog("QM").values()}
    assert {"FQ-002", "FQ-004", "FQ-005", "FQ-006"} <= fq


def test_rules_that_need_another_period_say_so():
    needs = {r.rule_id for r in WAREHOUSE_RULES if r.needs_previous or r.needs_history}
    assert needs == {"M001", "M002", "M005", "M009"}


def test_rule_catalog_seed_is_current():
    from pipelines.quality.catalog.seed import SEED, render

    assert SEED.read_text(encoding="utf-8") == render(), "run: python -m pipelines.quality.catalog.seed"
