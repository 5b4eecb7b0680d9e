"""The analyst guide's standard questions run on a warehouse built end to end, and answer correctly."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.evaluate.detection import read_truth
from pipelines.reports.analyst_questions import GUIDE, load_questions, render_guide, run_question

pytestmark = pytest.mark.e2e
PERIODS = ("2026-07", "2026-08", "2026-09", "2026-10")


@pytest.fixture(scope="module")
def snapshot(tiny_cycle):
    con = duckdb.connect(str(tiny_cycle.report.snapshot), read_only=True)
    yield con, read_truth(tiny_cycle.truth_file)
    con.close()


def _ask(con, qid: str, period: str):
    return run_question(con, next(q for q in load_questions() if q.id == qid), period)


def test_guide_shows_the_current_questions() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    assert render_guide(text, load_questions()) == text, "run: python -m pipelines.reports.analyst_questions"
    assert len(load_questions()) >= 10


@pytest.mark.parametrize("period", PERIODS)
def test_every_question_runs_on_the_published_snapshot(snapshot, period) -> None:
    con, _ = snapshot
    for q in load_questions():
        df = run_question(con, q, period)
        assert df.width > 0, q.id


def test_every_question_has_an_answer_in_some_period(snapshot) -> None:
    """A query that runs but never returns a row (a wrong column, a filter nothing meets) answers nothing:
    on a market with every irregularity class injected, each question finds rows in at least one period."""
    con, _ = snapshot
    empty = [q.id for q in load_questions() if all(run_question(con, q, p).height == 0 for p in PERIODS)]
    assert not empty, f"questions with no answer in {PERIODS}: {empty}"


def test_reserve_breaches_of_the_quarter_are_the_injected_cases(snapshot) -> None:
    con, truth = snapshot
    q3 = {
        (c["enterprise_id"], c["period"])
        for c in truth
        if "RES-001" in c["expected"] and "2026-07" <= c["period"] <= "2026-09"
    }
    assert q3
    answer = _ask(con, "reserve_breaches_quarter", "2026-09")
    assert set(zip(answer["enterprise_id"], answer["period"], strict=True)) == q3
    assert (answer["breach_days"] > 0).all() and (answer["worst_day_coverage"] < 1).all()
    # Q4 starts in October: September's breaches are not this quarter's
    q4 = {
        (c["enterprise_id"], c["period"])
        for c in truth
        if "RES-001" in c["expected"] and c["period"] == "2026-10"
    }
    assert (
        set(zip(*_ask(con, "reserve_breaches_quarter", "2026-10")[["enterprise_id", "period"]], strict=True))
        == q4
    )


@pytest.mark.parametrize("period", PERIODS)
def test_late_and_missing_filers_are_the_injected_cases(snapshot, period) -> None:
    con, truth = snapshot
    late = {c["enterprise_id"] for c in truth if "FQ-001" in c["expected"] and c["period"] == period}
    answer = _ask(con, "not_filed", period)
    assert set(answer["enterprise_id"]) == late
    assert all(missing or days > 0 for missing, days in answer.select("missing", "days_late").iter_rows())


def test_resubmission_drift_lists_enterprises_with_several_versions(snapshot) -> None:
    con, _ = snapshot
    for period in PERIODS:
        expected = dict(
            con.execute(
                "select enterprise_id, count(*) from intake.submissions where period = ? group by 1 having count(*) > 1",
                [period],
            ).fetchall()
        )
        answer = _ask(con, "resubmission_drift", period)
        assert dict(zip(answer["enterprise_id"], answer["versions"], strict=True)) == expected
        assert all(s.startswith("1:") for s in answer["version_statuses"])


@pytest.mark.parametrize("period", PERIODS)
def test_top_risk_scores_rest_on_the_period_alerts(snapshot, period) -> None:
    con, _ = snapshot
    alert_families: dict[str, set[str]] = {}
    for enterprise_id, family in con.execute(
        "select enterprise_id, family from marts.fct_alerts where period = ?", [period]
    ).fetchall():
        alert_families.setdefault(enterprise_id, set()).add(family)
    answer = _ask(con, "top_risk_scores", period)
    assert answer["score"].to_list() == sorted(answer["score"].to_list(), reverse=True)
    for row in answer.iter_rows(named=True):
        if row["score"] > 0:
            driving = {part.split(" ")[0] for part in row["driving_families"].split(", ")}
            assert driving <= alert_families[row["enterprise_id"]], row
        else:
            assert row["enterprise_id"] not in alert_families or row["driving_families"] is None
