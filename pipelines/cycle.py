"""One monthly cycle, the same code path for the CLI, the sensor and the schedule:

intake (S rules, load) -> validity (V rules) -> decisions and supersession -> edit reports
-> dbt build (staging, marts, indicators, alerts) -> publish the read-only snapshot.

All writing steps run under the single-writer lock; dbt runs with the cycle's own connection closed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipelines.home import Home
from pipelines.intake import lifecycle
from pipelines.intake.service import IntakeOutcome, take_in
from pipelines.reports.edit_report import write_edit_reports
from pipelines.warehouse.db import connect_writer, publish_snapshot, writer_lock

Progress = Callable[[str, int, int], None]


@dataclass
class CycleReport:
    as_of: datetime
    intake: list[IntakeOutcome] = field(default_factory=list)
    decided: dict[str, str] = field(default_factory=dict)
    edit_reports: list[Path] = field(default_factory=list)
    snapshot: Path | None = None
    dbt_docs: Path | None = None  # reports/dbt_docs/static_index.html, offline
    timings: dict[str, float] = field(default_factory=dict)
    period_reports: list[Path] = field(default_factory=list)  # supervision/ and quality/<period>.html

    @property
    def statuses(self) -> dict[str, str]:
        """Final status of every submission this cycle touched."""
        out = {o.submission_id: o.status for o in self.intake}
        out.update(self.decided)
        return out

    @property
    def status_counts(self) -> dict[str, int]:
        """Submissions this cycle touched, by final status."""
        return dict(Counter(self.statuses.values()))


def utcnow() -> datetime:
    return datetime.now(UTC)


def validate_and_decide(
    con, home: Home, clock: datetime, progress: Progress | None = None, *, backfill: bool = False
) -> dict[str, str]:
    """Run the validity stage on every loaded, undecided submission and decide their statuses."""
    from pipelines.quality.stages import reevaluate, run_quality_and_macro
    from pipelines.quality.validity import run_validity_stage

    pending = lifecycle.pending_submissions(con)
    if not pending:
        return {}
    if progress:
        progress("validity", 0, len(pending))
    errors = run_validity_stage(con, home.warehouse, pending, found_at=clock)
    decided: dict[str, str] = {}
    # Q and M stages, then the decision, period by period and version by version: a macro rule reads the
    # previous period's (and the same period's earlier) current version, decided just before.
    for batch in _in_period_order(con, pending):
        later = run_quality_and_macro(con, [s for s in batch if not errors.get(s)], found_at=clock)
        warnings = {
            sid: n
            for sid, n in con.execute(
                "select submission_id, count(*) from quality.findings where severity = 'warning' and not shadow "
                "and submission_id in (select unnest(?)) group by 1",
                [batch],
            ).fetchall()
        }
        totals = {sid: errors.get(sid, 0) + later.get(sid, 0) for sid in batch}
        decided.update(lifecycle.decide(con, totals, warnings, clock, backfill=backfill))
    reevaluate(con, found_at=clock)  # SKIPPED rules whose missing period has now arrived
    if progress:
        progress("validity", len(pending), len(pending))
    return decided


def _in_period_order(con, submission_ids: list[str]) -> list[list[str]]:
    """The submissions grouped by (period, version), in that order."""
    rows = con.execute(
        "select period, version, list(submission_id order by submission_id) from intake.submissions "
        "where submission_id in (select unnest(?)) group by all order by period, version",
        [submission_ids],
    ).fetchall()
    return [sids for _, _, sids in rows]


def run_cycle(
    home: Home,
    *,
    as_of: datetime | None = None,
    backfill: bool = False,
    build_marts: bool = True,
    progress: Progress | None = None,
) -> CycleReport:
    """Take in what is in the landing area and bring the warehouse and its published snapshot up to date."""
    home.ensure()
    clock = (as_of or utcnow()).astimezone(UTC)
    report = CycleReport(as_of=clock)
    with writer_lock(home):
        t0 = time.perf_counter()
        with connect_writer(home) as con:
            report.intake = take_in(con, home, clock=clock, backfill=backfill, progress=progress)
            t1 = time.perf_counter()
            report.decided = validate_and_decide(con, home, clock, progress, backfill=backfill)
            t2 = time.perf_counter()
            touched = sorted(report.statuses)
            report.edit_reports = write_edit_reports(con, home.reports / "edit", touched)
        report.timings.update(intake=t1 - t0, validity=t2 - t1)
        if build_marts:
            from pipelines.dbt_runner import build

            if progress:
                progress("dbt build", 0, 1)
            t3 = time.perf_counter()
            build(
                home.warehouse,
                clock,
                target_dir=home.dbt_target,
                exclude_unit_tests=True,
                extra_args=["--quiet"],
            )
            report.timings["dbt"] = time.perf_counter() - t3
            if progress:
                progress("dbt build", 1, 1)
            from pipelines.reports.dbt_docs import publish_dbt_docs

            t_docs = time.perf_counter()
            report.dbt_docs = publish_dbt_docs(home, clock)
            report.timings["dbt_docs"] = time.perf_counter() - t_docs
        t4 = time.perf_counter()
        report.snapshot = publish_snapshot(home)
        report.timings["publish"] = time.perf_counter() - t4
        if build_marts and report.statuses:
            t5 = time.perf_counter()
            report.period_reports = write_period_reports(home, sorted(report.statuses))
            report.timings["reports"] = time.perf_counter() - t5
    return report


def write_period_reports(home: Home, submission_ids: list[str]) -> list[Path]:
    """The supervision and quality reports of every period the given submissions belong to, from the published
    snapshot (reports/supervision/<period>.html, reports/quality/<period>.html; each links to the other)."""
    from pipelines.reports.quality_report import write_quality_report
    from pipelines.reports.supervision_report import write_supervision_report
    from pipelines.warehouse.db import connect_reader

    con = connect_reader(home)
    try:
        periods = [
            r[0]
            for r in con.execute(
                "select distinct period from intake.submissions where submission_id in (select unnest(?)) "
                "and period is not null order by 1",
                [submission_ids],
            ).fetchall()
        ]
        return [
            write(con, home.reports, period)
            for period in periods
            for write in (write_supervision_report, write_quality_report)
        ]
    finally:
        con.close()
