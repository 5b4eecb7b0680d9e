"""One monthly cycle: a sequence of steps, the same functions whichever way the cycle runs.

    intake -> validity and decisions -> edit reports -> dbt models -> dbt docs (when the dbt project
    changed) -> publish -> period reports -> lake (the open Parquet layout, pipelines/warehouse/lake.py)

`run_cycle` (the CLI's `suptech run`, the benchmarks, the reliability tests) calls the steps in that order
holding the single-writer lock once; the Dagster assets (pipelines/definitions.py: the sensor's and the
monthly schedule's runs, the period backfills) call exactly the same step functions, one asset each, each
holding the lock. A step takes the cycle's `CycleRun` (home, clock, backfill flag, progress callback) and
records what it did in `run.report`. Without marts (`suptech run --no-marts`) the cycle stops after the
edit reports, publishes and writes the lake (no dbt, no period reports).

A step opens its own warehouse connection and closes it before returning, so dbt (which opens the file
itself) and publishing never meet an open connection. No step forces work by what an earlier step of the
same run touched: edit reports and period reports are rewritten when missing or when their recorded
input fingerprint changed, the dbt docs when the dbt project (or the warehouse schema it documents)
changed, so a step's result does not depend on whether its predecessors ran in this process.
dbt's unit tests read no warehouse data: they do not run in the cycle (`make test` runs them).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines import faults
from pipelines.home import Home
from pipelines.intake import lifecycle
from pipelines.intake.service import IntakeOutcome, take_in
from pipelines.portal.queue import Outcome, apply_pending
from pipelines.reports.edit_report import refresh_edit_reports
from pipelines.warehouse.db import connect_writer, publish_snapshot, writer_lock

if TYPE_CHECKING:
    from pipelines.dbt_runner import DbtResult
    from pipelines.warehouse.lake import LakeReport

Progress = Callable[[str, int, int], None]


@dataclass
class CycleReport:
    as_of: datetime
    intake: list[IntakeOutcome] = field(default_factory=list)
    decided: dict[str, str] = field(default_factory=dict)
    acknowledgements: list[Outcome] = field(default_factory=list)  # queued by the filing API, applied
    edit_reports: list[Path] = field(default_factory=list)  # written (missing or stale)
    snapshot: Path | None = None
    dbt_full_refresh: bool | None = None  # whether the dbt build rebuilt every partition (None: no build)
    dbt_docs: Path | None = None  # reports/dbt_docs/static_index.html when regenerated (None: unchanged)
    timings: dict[str, float] = field(default_factory=dict)
    period_reports: list[Path] = field(default_factory=list)  # supervision/ and quality/<period>.html
    lake: LakeReport | None = None  # what the lake step wrote under <home>/lake

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


@dataclass
class CycleRun:
    """What every step gets: the home, the warehouse clock, whether this is a backfill of past deliveries
    (received_at = manifest mtime), whether dbt rebuilds every partition of its incremental models
    (`full_refresh`; otherwise only the changed ones, macros/incremental.sql), an optional progress
    callback; steps record into `report`."""

    home: Home
    as_of: datetime
    backfill: bool = False
    progress: Progress | None = None
    full_refresh: bool = False
    report: CycleReport = field(init=False)

    def __post_init__(self) -> None:
        self.as_of = self.as_of.astimezone(UTC)
        self.report = CycleReport(as_of=self.as_of)

    def tick(self, step: str, done: int, total: int) -> None:
        if self.progress:
            self.progress(step, done, total)


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


def begin(
    home: Home,
    *,
    as_of: datetime | None = None,
    backfill: bool = False,
    progress: Progress | None = None,
    full_refresh: bool = False,
) -> CycleRun:
    """A new cycle on the home (created if need be) at `as_of` (default: now)."""
    run = CycleRun(home.ensure(), as_of or utcnow(), backfill, progress, full_refresh)
    faults.checkpoint("cycle.start")
    return run


# The steps, in cycle order. Each runs with the single-writer lock held by its caller and no connection open.


def intake(run: CycleRun) -> list[IntakeOutcome]:
    """S rules, typed load and archive of every complete package in the landing area."""

    def intake_progress(step: str, done: int, total: int) -> None:
        faults.checkpoint("intake.package" if done < total else "intake.done")
        run.tick(step, done, total)

    with _timed(run, "intake"), connect_writer(run.home) as con:
        run.report.intake = take_in(
            con, run.home, clock=run.as_of, backfill=run.backfill, progress=intake_progress
        )
    return run.report.intake


def validity_and_decisions(run: CycleRun) -> dict[str, str]:
    """V rules, Q and M stages and the statuses of every loaded, undecided submission; then the warning
    acknowledgements filers queued through the API (after the decisions: a submission this cycle took in
    can be acknowledged; before the edit reports and publish, which show them)."""
    with _timed(run, "validity"), connect_writer(run.home) as con:
        run.report.decided = validate_and_decide(
            con, run.home, run.as_of, run.progress, backfill=run.backfill
        )
        run.report.acknowledgements = apply_pending(con, run.home, run.as_of)
    return run.report.decided


def edit_reports(run: CycleRun) -> list[Path]:
    """The edit report (CSV, JSON, HTML) of every submission whose report is missing or stale."""
    faults.checkpoint("edit_reports.start")
    with _timed(run, "edit_reports"), connect_writer(run.home) as con:
        run.report.edit_reports = refresh_edit_reports(con, run.home.reports / "edit")
    return run.report.edit_reports


def dbt_models(run: CycleRun, select: Sequence[str] = ()) -> DbtResult:
    """`dbt build` of the seeds, models and data tests (all, or the `select`ed nodes) at the cycle's clock;
    unit tests excluded; the incremental models rebuild the partitions that changed (all of them when
    the run asks for a full refresh or the project changed since the last build). Returns the DbtResult
    (the Dagster asset turns it into materializations and checks); raises DbtBuildError naming the
    failing nodes."""
    from pipelines.dbt_runner import build

    run.tick("dbt build", 0, 1)
    faults.checkpoint("dbt.start")
    with _timed(run, "dbt"):
        result = build(
            run.home.warehouse,
            run.as_of,
            target_dir=run.home.dbt_target,
            select=select,
            exclude_unit_tests=True,
            full_refresh=run.full_refresh,
            extra_args=["--quiet"],
        )
    run.report.dbt_full_refresh = "--full-refresh" in result.args
    faults.checkpoint("dbt.done")
    run.tick("dbt build", 1, 1)
    return result


def dbt_docs(run: CycleRun) -> Path | None:
    """The offline dbt docs page (reports/dbt_docs/), regenerated when the dbt project or the warehouse
    schema changed since it was written, or when it is missing; None when it was up to date."""
    from pipelines.reports.dbt_docs import refresh_dbt_docs

    with _timed(run, "dbt_docs"):
        run.report.dbt_docs = refresh_dbt_docs(run.home, run.as_of)
    return run.report.dbt_docs


def publish(run: CycleRun) -> Path:
    """Both read-only snapshots (analyst, auditor), built new and swapped in atomically."""
    faults.checkpoint("publish.start")
    with _timed(run, "publish"):
        run.report.snapshot = publish_snapshot(run.home, run.as_of)
    faults.checkpoint("publish.done")
    return run.report.snapshot


def period_reports(run: CycleRun) -> list[Path]:
    """The supervision and quality report of every period, from the published snapshot, where missing or stale."""
    with _timed(run, "reports"):
        run.report.period_reports = refresh_period_reports(run.home, run.as_of)
    return run.report.period_reports


def lake(run: CycleRun) -> LakeReport:
    """The open Parquet layout under <home>/lake from the snapshots just published: new accepted
    submissions' raw rows (lake/raw, 0700), changed partitions of the intake tables and the analysts' marts."""
    from pipelines.warehouse.lake import write_lake

    faults.checkpoint("lake.start")
    with _timed(run, "lake"):
        run.report.lake = write_lake(run.home, run.progress)
    return run.report.lake


Step = Callable[[CycleRun], object]
STEPS: tuple[Step, ...] = (
    intake,
    validity_and_decisions,
    edit_reports,
    dbt_models,
    dbt_docs,
    publish,
    period_reports,
    lake,
)
MART_STEPS: frozenset[Step] = frozenset({dbt_models, dbt_docs, period_reports})


def steps(build_marts: bool = True) -> tuple[Step, ...]:
    """The cycle's steps in order (without dbt, its docs and the period reports when not building marts)."""
    return STEPS if build_marts else tuple(s for s in STEPS if s not in MART_STEPS)


class _timed:
    """Adds the block's wall time to run.report.timings[name]."""

    def __init__(self, run: CycleRun, name: str) -> None:
        self.run, self.name = run, name

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        timings = self.run.report.timings
        timings[self.name] = timings.get(self.name, 0.0) + time.perf_counter() - self.t0


def run_cycle(
    home: Home,
    *,
    as_of: datetime | None = None,
    backfill: bool = False,
    build_marts: bool = True,
    progress: Progress | None = None,
    full_refresh: bool = False,
) -> CycleReport:
    """Take in what is in the landing area and bring the warehouse, its published snapshots and the reports
    up to date: every step of `steps(build_marts)` in order, under one hold of the single-writer lock.

    Crash-safe: every step is idempotent, so after a cycle killed anywhere (SIGKILL, power cut) the next
    one ends in the state an uninterrupted cycle would have left, reports included (docs/reliability.md).
    Nothing depends on the wall clock but `as_of`'s default."""
    run = begin(home, as_of=as_of, backfill=backfill, progress=progress, full_refresh=full_refresh)
    with writer_lock(run.home):
        for step in steps(build_marts):
            step(run)
    return run.report


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


PERIOD_REPORT_VERSION = "period-3"  # bump when the period reports change (2: portal charts, 3: AML parties)
PERIOD_FINGERPRINTS = ".period_fingerprints.json"
REPORT_INPUTS = ("marts", "intake", "quality")
# what no period report shows and every cycle changes: the audit log, the clock of the indicator rows, and
# the enterprise dimension's bookkeeping of the last period filed (its rows have no period)
REPORT_SKIPPED_TABLES = ("intake.audit_log",)
REPORT_SKIPPED_COLUMNS = ("computed_at", "marts.dim_enterprises.last_period", "marts.dim_enterprises.periods")


def refresh_period_reports(home: Home, as_of: datetime, submission_ids: Sequence[str] = ()) -> list[Path]:
    """Write the period reports of every period whose report is missing or was written from other inputs
    (and of the given submissions' periods). A period's inputs are the snapshot's marts, intake and quality
    rows of that period and of every earlier one (a report shows up to a year of history), and the rows of
    no period; their fingerprint is recorded in reports/.period_fingerprints.json. So a new month writes
    its own reports, a resubmission of an earlier month that month's and the later ones', and a cycle
    that changed nothing none (the clock is not an input: REPORT_SKIPPED_* are left out, and a report kept
    says when it was written). A cycle killed before or while writing them leaves none
    missing or stale after the next one."""
    import json

    from pipelines.reports.edit_report import write_atomic
    from pipelines.warehouse.db import connect_reader
    from pipelines.warehouse.fingerprint import combined, fingerprints_by_period

    con = connect_reader(home)
    try:
        by_period = fingerprints_by_period(
            con, REPORT_INPUTS, skip_tables=REPORT_SKIPPED_TABLES, skip_columns=REPORT_SKIPPED_COLUMNS
        )
        rows = con.execute(
            "select period, bool_or(submission_id in (select unnest(?))) from intake.submissions "
            "where period is not null group by 1 order by 1",
            [list(submission_ids)],
        ).fetchall()
        path = home.reports / PERIOD_FINGERPRINTS
        try:
            recorded = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            recorded = {}
        current = {
            period: combined(
                {"@": PERIOD_REPORT_VERSION, "": by_period.get(None, "")}
                | {p: fp for p, fp in by_period.items() if p is not None and p <= period}
            )
            for period, _ in rows
        }
        todo = [
            period
            for period, touched in rows
            if touched
            or recorded.get(period) != current[period]
            or not all(
                (home.reports / kind / f"{period}.html").exists() for kind in ("supervision", "quality")
            )
        ]
        written = _write_periods(con, home, todo, as_of)
    finally:
        con.close()
    if current != recorded:
        write_atomic(path, json.dumps(current, indent=1, sort_keys=True))
    return written
