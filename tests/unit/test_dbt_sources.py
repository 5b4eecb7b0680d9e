"""The dbt sources are generated from the contracts and the warehouse schema, never typed by hand."""

from __future__ import annotations

import yaml

from pipelines.contracts import FILING_TYPES, load_contracts
from pipelines.dbt_sources import PROJECT_DIR, SOURCES_PATH, main, render_sources


def test_checked_in_sources_match_the_contracts() -> None:
    assert SOURCES_PATH.read_text(encoding="utf-8") == render_sources(), (
        f"{SOURCES_PATH.relative_to(PROJECT_DIR.parent)} is out of date: run `python -m pipelines.dbt_sources`"
    )


def test_raw_source_has_every_contract_column_with_its_type() -> None:
    doc = yaml.safe_load(render_sources())
    raw = next(s for s in doc["sources"] if s["name"] == "raw")
    tables = {t["name"]: t for t in raw["tables"]}
    assert list(tables) == list(FILING_TYPES)
    for ft, contract in load_contracts().items():
        cols = {c["name"]: c["data_type"] for c in tables[ft]["columns"]}
        assert list(cols)[:2] == ["submission_id", "_row"]
        assert {n: t for n, t in cols.items() if n not in ("submission_id", "_row")} == {
            c.name: c.duckdb_type.lower() for c in contract.columns
        }
        assert tables[ft]["meta"]["key"] == list(contract.key)
    purpose = next(c for c in tables["transactions"]["columns"] if c["name"] == "purpose")
    assert "Values: payment, top_up, withdrawal" in purpose["description"]


def test_intake_and_quality_sources_come_from_the_schema() -> None:
    doc = yaml.safe_load(render_sources())
    by_name = {s["name"]: {t["name"]: t for t in s["tables"]} for s in doc["sources"]}
    assert set(by_name["intake"]) == {
        "submissions",
        "deliveries",
        "files",
        "submission_events",
        "acknowledgements",
        "audit_log",
        "version_diffs",
        "version_diff_fields",
    }
    assert set(by_name["quality"]) == {"findings", "rule_results"}
    events = {c["name"]: c for c in by_name["intake"]["submission_events"]["columns"]}
    assert events["event_at"]["data_type"] == "timestamp with time zone"
    assert by_name["intake"]["submissions"]["description"] == "one row per submission_id (its latest state)"


def test_every_filing_type_has_a_staging_model() -> None:
    staging = PROJECT_DIR / "models" / "staging" / "filings"
    assert {p.stem for p in staging.glob("stg_filings__*.sql")} == {
        f"stg_filings__{ft}" for ft in FILING_TYPES
    }


def test_check_mode_reports_a_stale_file(tmp_path) -> None:
    stale = tmp_path / "_sources.yml"
    stale.write_text("version: 2\n", encoding="utf-8")
    assert main(["--check", "--output", str(stale)]) == 1
    assert main(["--output", str(stale)]) == 0
    assert main(["--check", "--output", str(stale)]) == 0
