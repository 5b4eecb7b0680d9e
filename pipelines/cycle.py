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

from pipelines import faults
from pipelines.home import Home
from pipelines.intake import lifecycle
from pipelines.intake.service import IntakeOutcome, take_in
from pipelines.reports.edit_report import refresh_edit_reports
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
    """Run the validity stage on every loaded, undecided submission and decide their statuses.

    Exactly once across crashes: a stage whose results a killed cycle committed for a submission still
    RECEIVED is not run again (its recorded rule results give its error count), see stages.recorded_errors;
    each stage writes its findings and results in one transaction, each decision in one transaction."""
    from pipelines.quality.stages import recorded_errors, reevaluate, run_quality_and_macro
    from pipelines.quality.validity import run_validity_stage

    pending = lifecycle.pending_submissions(con)
    faults.checkpoint("validity.start")
    if not pending:
        reevaluate(con, found_at=clock)  # a cycle killed after its decisions, before this
        return {}
    if progress:
        progress("validity", 0, len(pending))
    errors = recorded_errors(con, pending, "V")
    todo = [s for s in pending if s not in errors]
    if todo:
        errors.update(run_validity_stage(con, home.warehouse, todo, found_at=clock))
    faults.checkpoint("validity.done")
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
        faults.checkpoint("decide.batch")
        decided.update(lifecycle.decide(con, totals, warnings, clock, backfill=backfill))
    faults.checkpoint("reevaluate")
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
    """Take in what is in the landing area and bring the warehouse and its published snapshot up to date.

    Crash-safe: every step is idempotent, so after a cycle killed anywhere (SIGKILL, power cut) the next
    one ends in the state an uninterrupted cycle would have left, reports included (docs/reliability.md).
    Nothing depends on the wall clock but `as_of`'s default."""
    home.ensure()
    clock = (as_of or utcnow()).astimezone(UTC)
    report = CycleReport(as_of=clock)
    faults.checkpoint("cycle.start")

    def intake_progress(step: str, done: int, total: int) -> None:
        faults.checkpoint("intake.package" if done < total else "intake.done")
        if progress:
            progress(step, done, total)

    with writer_lock(home):
        t0 = time.perf_counter()
        with connect_writer(home) as con:
            report.intake = take_in(con, home, clock=clock, backfill=backfill, progress=intake_progress)
            t1 = time.perf_counter()
            report.decided = validate_and_decide(con, home, clock, progress, backfill=backfill)
            t2 = time.perf_counter()
            faults.checkpoint("edit_reports.start")
            touched = sorted(report.statuses)
            # the touched ones, and any a killed cycle left unwritten or stale
            report.edit_reports = refresh_edit_reports(con, home.reports / "edit", touched)
        report.timings.update(intake=t1 - t0, validity=t2 - t1)
        if build_marts:
            from pipelines.dbt_runner import build

            if progress:
                progress("dbt build", 0, 1)
            t3 = time.perf_counter()
            faults.checkpoint("dbt.start")
            build(
                home.warehouse,
                clock,
                target_dir=home.dbt_target,
                exclude_unit_tests=True,
                extra_args=["--quiet"],
            )
            faults.checkpoint("dbt.done")
            report.timings["dbt"] = time.perf_counter() - t3
            if progress:
                progress("dbt build", 1, 1)
            from pipelines.reports.dbt_docs import publish_dbt_docs

            t_docs = time.perf_counter()
            report.dbt_docs = publish_dbt_docs(home, clock)
            report.timings["dbt_docs"] = time.perf_counter() - t_docs
        t4 = time.perf_counter()
        faults.checkpoint("publish.start")
        report.snapshot = publish_snapshot(home, clock)
        faults.checkpoint("publish.done")
        report.timings["publish"] = time.perf_counter() - t4
        if build_marts:
            t5 = time.perf_counter()
            report.period_reports = refresh_period_reports(home, sorted(report.statuses), clock)
            report.timings["reports"] = time.perf_counter() - t5
    return report


def write_period_reports(home: Home, submission_ids: list[str], as_of: datetime | None = None) -> list[Path]:
    """The supervision and quality reports of every period the given submissions belong to, from the published
    snapshot (reports/supervision/<period>.html, reports/quality/<period>.html; each links to the other)."""
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
        return _write_periods(con, home, periods, as_of)
    finally:
        con.close()


def _write_periods(con, home: Home, periods: list[str], as_of: datetime | None) -> list[Path]:
    from pipelines.reports.quality_report import write_quality_report
    from pipelines.reports.supervision_report import write_supervision_report

    out = []
    for period in periods:
        for write in (write_supervision_report, write_quality_report):
            faults.checkpoint("period_report")
            out.append(write(con, home.reports, period, as_of=as_of))
    return out


PERIOD_REPORT_VERSION = "period-1"  # bump when the period reports' layout changes
PERIOD_FINGERPRINTS = ".period_fingerprints.json"


def refresh_period_reports(home: Home, submission_ids: list[str], as_of: datetime) -> list[Path]:
    """Write the period reports of the given submissions' periods, and of every period whose report is
    missing or was written from other inputs: the recorded fingerprint (reports/.period_fingerprints.json)
    is the content fingerprint of the snapshot's marts, intake and quality tables and the clock. A cycle
    killed before or while writing them leaves none missing or stale after the next one."""
    import json

    from pipelines.reports.edit_report import write_atomic
    from pipelines.warehouse.db import connect_reader
    from pipelines.warehouse.fingerprint import combined, table_fingerprints

    con = connect_reader(home)
    try:
        fp = combined(
            {
                **table_fingerprints(con, ["marts", "intake", "quality"]),
                "@": f"{PERIOD_REPORT_VERSION}|{as_of.astimezone(UTC).isoformat()}",
            }
        )
        rows = con.execute(
            "select period, bool_or(submission_id in (select unnest(?))) from intake.submissions "
            "where period is not null group by 1 order by 1",
            [submission_ids],
        ).fetchall()
        path = home.reports / PERIOD_FINGERPRINTS
        try:
            recorded = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            recorded = {}
        todo = [
            period
            for period, touched in rows
            if touched
            or recorded.get(period) != fp
            or not all(
                (home.reports / kind / f"{period}.html").exists() for kind in ("supervision", "quality")
            )
        ]
        written = _write_periods(con, home, todo, as_of)
    finally:
        con.close()
    current = {period: fp for period, _ in rows}
    if current != recorded:
        write_atomic(path, json.dumps(current, indent=1, sort_keys=True))
    return written
