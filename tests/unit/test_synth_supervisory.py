"""Supervisory injections of the credit, complaint and incident classes: each case shows in the written
files exactly as its ground truth says (tiny market, seed 11, only these classes)."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pytest

from pipelines.synth import selfcheck
from pipelines.synth.periods import period_of
from pipelines.synth.run import generate
from pipelines.synth.truth import read as read_truth

CLASSES = [
    "supervisory.borrower_limit",
    "supervisory.pricing",
    "supervisory.maturity_mismatch",
    "supervisory.overdue_spike",
    "supervisory.untimely_complaints",
    "supervisory.late_incident_report",
]


@pytest.fixture(scope="module")
def market(tmp_path_factory) -> tuple[duckdb.DuckDBPyConnection, list[dict]]:
    root = tmp_path_factory.mktemp("supervisory")
    generate(root / "landing", root / "truth.jsonl", preset="tiny", seed=11, inject=CLASSES)
    return selfcheck.load(root / "landing"), read_truth(root / "truth.jsonl")


def _cases(truth: list[dict], cls: str) -> list[dict]:
    cases = [c for c in truth if c["class"] == cls]
    assert len(cases) >= 2, cls
    return cases


def test_every_class_is_injected(market) -> None:
    _, truth = market
    assert {c["class"] for c in truth} == set(CLASSES)


def test_pricing_lists_the_loans_at_48_percent(market) -> None:
    con, truth = market
    for case in _cases(truth, "supervisory.pricing"):
        rows = con.execute(
            "select loan_id, apr_comprehensive from loans where submission_id = ? and apr_comprehensive > 0.36",
            [case["submission_id"]],
        ).fetchall()
        assert sorted(r[0] for r in rows) == case["records"]["loans"]
        assert {float(r[1]) for r in rows} == {0.48}


def test_maturity_mismatch_splits_long_loans_into_30_day_positions(market) -> None:
    con, truth = market
    for case in _cases(truth, "supervisory.maturity_mismatch"):
        end = period_of(case["period"]).last
        rows = con.execute(
            """select i.investment_id, i.term_days, i.start_date, l.maturity_date
               from investments i join loans l on i.submission_id = l.submission_id and i.loan_id = l.loan_id
               where i.submission_id = ? and i.term_days < date_diff('day', i.start_date, l.maturity_date)""",
            [case["submission_id"]],
        ).fetchall()
        assert sorted(r[0] for r in rows) == case["records"]["investments"]
        for _, term, start, maturity in rows:
            assert term == 30 and (maturity - start).days >= 180 and start <= end - timedelta(days=31)


def test_borrower_limit_puts_more_than_200k_on_one_natural_person(market) -> None:
    con, truth = market
    for case in _cases(truth, "supervisory.borrower_limit"):
        (owner,) = case["parties"]
        total, loans = con.execute(
            "select sum(outstanding_principal), list(loan_id order by loan_id) from loans "
            "where submission_id = ? and borrower_party_id = ? and outstanding_principal > 0",
            [case["submission_id"], owner],
        ).fetchone()
        assert total > 200_000 and set(case["records"]["loans"]) <= set(loans)
        kind = con.execute(
            "select party_type, is_related_party from parties where submission_id = ? and party_id = ?",
            [case["submission_id"], owner],
        ).fetchone()
        assert kind == ("natural", False)


def test_overdue_spike_triples_the_overdue_share(market) -> None:
    con, truth = market
    for case in _cases(truth, "supervisory.overdue_spike"):
        share, spiked = con.execute(
            """select sum(outstanding_principal) filter (where days_past_due > 0) / sum(outstanding_principal),
                      list(days_past_due) filter (where list_contains(?, loan_id))
               from loans where submission_id = ? and outstanding_principal > 0""",
            [case["records"]["loans"], case["submission_id"]],
        ).fetchone()
        assert share >= 0.3
        assert len(spiked) == len(case["records"]["loans"]) and all(1 <= d <= 60 for d in spiked)


def test_untimely_complaints_are_open_more_than_60_days(market) -> None:
    con, truth = market
    for case in _cases(truth, "supervisory.untimely_complaints"):
        end = period_of(case["period"]).last
        rows = con.execute(
            "select complaint_id, cast(received_at as date), closed_at, resolution from complaints "
            "where submission_id = ? and closed_at is null and cast(received_at as date) < ?",
            [case["submission_id"], end - timedelta(days=60)],
        ).fetchall()
        assert sorted(r[0] for r in rows) == sorted(case["records"]["complaints"])
        assert {r[3] for r in rows} == {"in_progress"}


def test_late_incident_is_major_and_reported_after_three_days(market) -> None:
    con, truth = market
    for case in _cases(truth, "supervisory.late_incident_report"):
        end = period_of(case["period"]).last
        (incident_id,) = case["records"]["incidents"]
        kind, severity, delay, reported = con.execute(
            "select incident_type, severity, reported_at - detected_at, cast(reported_at as date) "
            "from incidents where submission_id = ? and incident_id = ?",
            [case["submission_id"], incident_id],
        ).fetchone()
        assert (kind, severity) == ("security", "major")
        assert delay >= timedelta(hours=72) and reported <= end
