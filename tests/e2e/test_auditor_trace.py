"""The auditor's trace (docs/auditor_queries.yml) on a warehouse built end to end: each step reproduces the one
before it, down to the archived bytes."""

from __future__ import annotations

import hashlib

import pytest

from pipelines.evaluate.detection import read_truth
from pipelines.reports.analyst_questions import (
    AUDITOR_GUIDE,
    AUDITOR_QUERIES,
    load_questions,
    render_guide,
    run_question,
)
from pipelines.warehouse.db import connect_reader

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def trace(tiny_cycle):
    """Every step's answer for the first breaching day of an injected reserve shortfall."""
    case = next(c for c in read_truth(tiny_cycle.truth_file) if c["class"] == "supervisory.reserve_shortfall")
    con = connect_reader(tiny_cycle.home, "auditor")  # filed identifiers and raw rows: the auditors' file
    try:
        day = con.execute(
            "select min(as_of_date) from marts.fct_indicator_values where indicator_id = 'RES-001' "
            "and metric = 'coverage_ratio' and status = 'BREACH' and enterprise_id = ? and period = ?",
            [case["enterprise_id"], case["period"]],
        ).fetchone()[0]
        assert day is not None
        yield {
            q.id: run_question(
                con, q, case["period"], enterprise_id=case["enterprise_id"], day=day.isoformat()
            )
            for q in load_questions(AUDITOR_QUERIES)
        }
    finally:
        con.close()


def test_guide_shows_the_current_queries() -> None:
    text = AUDITOR_GUIDE.read_text(encoding="utf-8")
    assert render_guide(text, load_questions(AUDITOR_QUERIES), numbered=False) == text


def test_value_is_numerator_over_denominator_and_both_are_reproduced(trace) -> None:
    value = trace["value"].row(0, named=True)
    assert value["status"] == "BREACH" and value["value"] < value["threshold"]
    assert value["recomputed_value"] == pytest.approx(value["value"], rel=1e-12)
    rows = trace["numerator_rows"]
    assert rows.height >= 1
    assert float(rows["bank_confirmed_closing"].sum()) == pytest.approx(value["numerator"], abs=0.005)
    assert float(trace["denominator"]["derived_total"][0]) == pytest.approx(value["denominator"], abs=0.005)


def test_rows_are_the_delivered_rows_of_the_current_accepted_version(trace) -> None:
    staged = trace["numerator_rows"].select("submission_id", "_row", "account_id", "bank_confirmed_closing")
    raw = trace["raw_rows"].select("submission_id", "_row", "account_id", "bank_confirmed_closing")
    assert sorted(staged.rows()) == sorted(raw.rows())
    versions = trace["versions"].filter("is_current")
    assert versions.height == 1
    current = versions.row(0, named=True)
    assert current["status"] in ("ACCEPTED", "ACCEPTED_WITH_WARNINGS")
    assert set(staged["submission_id"]) == {current["submission_id"]}


def test_recorded_digests_match_the_archived_files(trace, tiny_cycle) -> None:
    # archive paths are stored relative to the home (archive/<enterprise>/<submission>/<n>)
    archive = tiny_cycle.home.root / trace["versions"].filter("is_current")["archive_path"][0]
    files = trace["files"]
    assert "account_balances" in files["filing_type"].to_list()
    for path, digest in files.select("path", "sha256").iter_rows():
        assert hashlib.sha256((archive / path).read_bytes()).hexdigest() == digest, path


def test_history_shows_the_acceptance_in_events_and_audit_log(trace) -> None:
    history = trace["history"]
    assert {"RECEIVED", "ACCEPTED"} <= set(history.filter(history["source"] == "event")["what"])
    audit = history.filter(history["source"] == "audit")
    assert audit.height >= 2 and audit["hash"].null_count() == 0
