"""The one Dagster Definitions object: assets, checks, sensor, schedule and resources.

Assets: `filings_intake` (intake + validity + decisions + edit reports, producing the raw/intake/quality
tables the dbt sources read), the dbt models (dbt tests become asset checks) and `published_snapshot`.
Every writing step holds the single-writer lock; runs use the in-process executor and the
`warehouse_writer` pool, so two runs never interleave on the warehouse.
"""

import hashlib
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext, ScheduleEvaluationContext, SensorEvaluationContext
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from pipelines.calendar import close_at, manifest_grace_seconds
from pipelines.dbt_runner import DBT_PROJECT_DIR, ensure_manifest
from pipelines.home import Home
from pipelines.intake.package import discover, printable
from pipelines.warehouse.db import connect_reader, connect_writer, publish_snapshot, writer_lock

AS_OF_TAG = "suptech/as_of"
BACKFILL_TAG = "suptech/backfill"
POOL = "warehouse_writer"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
MANIFEST = ensure_manifest()


class SupTechHome(dg.ConfigurableResource):
    """Where all state lives (SUPTECH_HOME)."""

    home: str | None = None

    def resolve(self) -> Home:
        return Home.resolve(self.home).ensure()


def _as_of(context: AssetExecutionContext) -> datetime:
    tag = context.run.tags.get(AS_OF_TAG)
    if tag:
        return datetime.fromisoformat(tag).astimezone(UTC)
    record = context.instance.get_run_record_by_id(context.run_id)
    created = record.create_timestamp if record else datetime.now(UTC)
    return created.astimezone(UTC)


def _source_keys() -> list[dg.AssetKey]:
    sources = json.loads(Path(MANIFEST).read_text())["sources"].values()
    return sorted({dg.AssetKey([s["source_name"], s["name"]]) for s in sources}, key=lambda k: k.path)


@dg.multi_asset(
    specs=[dg.AssetSpec(key, group_name="intake", kinds={"duckdb"}) for key in _source_keys()],
    pool=POOL,
    can_subset=False,
)
def filings_intake(context: AssetExecutionContext, suptech: SupTechHome):
    """Take in every complete package in the landing area: S rules, typed load, V rules, statuses, edit reports."""
    from pipelines.cycle import validate_and_decide
    from pipelines.intake.service import take_in
    from pipelines.reports.edit_report import write_edit_reports

    home = suptech.resolve()
    clock = _as_of(context)
    backfill = context.run.tags.get(BACKFILL_TAG) == "true"
    with writer_lock(home), connect_writer(home) as con:
        outcomes = take_in(
            con,
            home,
            clock=clock,
            backfill=backfill,
            progress=lambda step, i, n: context.log.info(f"{step} ({i}/{n})"),
        )
        decided = validate_and_decide(con, home, clock, backfill=backfill)
        statuses = {o.submission_id: o.status for o in outcomes} | decided
        write_edit_reports(con, home.reports / "edit", sorted(statuses))
        by_status = dict(con.execute("select status, count(*) from intake.submissions group by 1").fetchall())
    counts: dict[str, int] = {}
    for s in statuses.values():
        counts[s] = counts.get(s, 0) + 1
    table = "| submission | status |\n|---|---|\n" + "\n".join(
        f"| {k} | {v} |" for k, v in sorted(statuses.items())
    )
    for key in _source_keys():
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "as_of": clock.isoformat(),
                "this_run": dg.MetadataValue.json(counts),
                "all_submissions_by_status": dg.MetadataValue.json(by_status),
                **(
                    {"submissions": dg.MetadataValue.md(table)}
                    if key.path == ["intake", "submissions"]
                    else {}
                ),
            },
        )


@dbt_assets(manifest=MANIFEST, project=dbt_project, pool=POOL)
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, suptech: SupTechHome):
    """All dbt models, seeds and tests (tests become asset checks)."""
    home = suptech.resolve()
    os.environ["SUPTECH_WAREHOUSE"] = str(home.warehouse)
    as_of = _as_of(context).isoformat()
    with writer_lock(home):
        yield from dbt.cli(["build", "--vars", json.dumps({"as_of": as_of})], context=context).stream()


@dg.asset(deps=[dbt_models], group_name="publish", pool=POOL, kinds={"duckdb"})
def published_snapshot(context: AssetExecutionContext, suptech: SupTechHome) -> dg.MaterializeResult:
    """The analysts' pseudonymised snapshot and the auditors' snapshot, built new and swapped in atomically
    (pipelines/warehouse/publish.py); the metadata and reports come from the analysts' one."""
    home = suptech.resolve()
    with writer_lock(home):
        path = publish_snapshot(home, _as_of(context))
    return dg.MaterializeResult(metadata=_snapshot_metadata(home, path))


def _snapshot_metadata(home: Home, path: Path) -> dict:
    """Row counts, submissions by status, the latest period's alerts and breaches, and the reports written
    (a supervision and a quality report per period in the snapshot)."""
    from pipelines.reports.quality_report import write_quality_report
    from pipelines.reports.snapshot_metadata import summarise_snapshot
    from pipelines.reports.supervision_report import write_supervision_report

    con = connect_reader(home)
    try:
        periods = [
            r[0] for r in con.sql("select distinct period from intake.submissions order by 1").fetchall()
        ]
        reports = [write_supervision_report(con, home.reports, p) for p in periods if p]
        quality = [write_quality_report(con, home.reports, p) for p in periods if p]
        summary = summarise_snapshot(con, periods[-1:])
    finally:
        con.close()
    counts = "| table | rows |\n|---|---|\n" + "\n".join(
        f"| {t} | {n} |" for t, n in summary.row_counts.items()
    )
    return {
        "path": str(path),
        "bytes": path.stat().st_size,
        "row_counts": dg.MetadataValue.md(counts),
        "submissions_by_status": dg.MetadataValue.json(summary.submissions_by_status),
        "latest_period": ", ".join(summary.periods),
        "alerts_latest_period": dg.MetadataValue.json(summary.alerts_by_severity),
        "breaches_latest_period": dg.MetadataValue.md(summary.breaches_markdown or "no alerts mart"),
        "supervision_reports": dg.MetadataValue.md("\n".join(f"- {r}" for r in reports) or "none"),
        "quality_reports": dg.MetadataValue.md("\n".join(f"- {r}" for r in quality) or "none"),
        "latest_report": dg.MetadataValue.path(str(reports[-1])) if reports else "none",
    }


cycle_job = dg.define_asset_job(
    "monthly_cycle",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Intake, validation, dbt models and publishing: one full cycle.",
)


@dg.sensor(job=cycle_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def landing_sensor(context: SensorEvaluationContext, suptech: SupTechHome):
    """Starts a cycle when complete packages wait in the landing area."""
    home = suptech.resolve()
    now = datetime.now(UTC)
    packages = discover(home.landing, now, manifest_grace_seconds())
    if not packages:
        waiting = sum(1 for d in home.landing.glob("*/*") if d.is_dir())
        return dg.SkipReason(
            f"no complete package in {home.landing}"
            + (
                f"; {waiting} folder(s) waiting for their manifest or the {manifest_grace_seconds()} s grace period"
                if waiting
                else ""
            )
        )
    key = "|".join(f"{p.folder}@{p.manifest_mtime.timestamp()}" for p in packages)
    context.log.info(
        f"found {len(packages)} package(s): " + ", ".join(printable(p.folder_id) for p in packages[:20])
    )
    # a stable key (not hash(): randomised per process) so the same packages never start two runs; names
    # that are not UTF-8 keep their bytes (surrogate escapes)
    run_key = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()
    return dg.RunRequest(run_key=run_key, tags={AS_OF_TAG: now.isoformat()})


@dg.schedule(job=cycle_job, cron_schedule="0 2 1 * *", execution_timezone="Asia/Shanghai")
def monthly_close(context: ScheduleEvaluationContext):
    """Monthly run after period close: recomputes the marts with the close of the month two back final."""
    when = context.scheduled_execution_time.astimezone(UTC)
    return dg.RunRequest(run_key=when.isoformat(), tags={AS_OF_TAG: when.isoformat()})


# Filing periods as Dagster partitions (keys YYYY-MM, Shanghai calendar): a backfill over a range of
# periods (UI: the job's partitions tab, or `dagster job backfill -j period_cycle --partitions ...`) runs
# one full cycle per period, as of that period's close, in order.
PERIODS = dg.MonthlyPartitionsDefinition(start_date="2017-01", timezone="Asia/Shanghai", fmt="%Y-%m")


@dg.op(pool=POOL)
def cycle_as_of_period_close(context: dg.OpExecutionContext, suptech: SupTechHome) -> None:
    """Take in what waits in the landing area (received_at = manifest mtime) and recompute the marts as
    of the partition's period close, then publish."""
    from pipelines.cycle import run_cycle

    period = context.partition_key
    as_of = close_at(None, period)
    home = suptech.resolve()
    report = run_cycle(home, as_of=as_of, backfill=True)
    counts = report.status_counts
    context.log.info(
        f"period {period} as of {as_of.isoformat()}: {len(report.statuses)} submissions {counts}"
    )
    context.log_event(
        dg.AssetMaterialization(
            asset_key="published_snapshot",
            description=f"cycle as of the close of {period}",
            metadata={
                "period": period,
                "as_of": as_of.isoformat(),
                "submissions_by_status": dg.MetadataValue.json(counts),
                "timings_s": dg.MetadataValue.json(report.timings),
                "path": dg.MetadataValue.path(str(report.snapshot)),
            },
        )
    )


@dg.job(partitions_def=PERIODS, tags={BACKFILL_TAG: "true"}, executor_def=dg.in_process_executor)
def period_cycle() -> None:
    """One cycle per filing period, as of its close: backfills by period."""
    cycle_as_of_period_close()


def period_backfill_tags(period: str) -> dict[str, str]:
    """Tags to recompute as of a period's close (for backfills by period from the UI or CLI)."""
    return {AS_OF_TAG: close_at(None, period).isoformat(), BACKFILL_TAG: "true"}


defs = dg.Definitions(
    assets=[filings_intake, dbt_models, published_snapshot],
    jobs=[cycle_job, period_cycle],
    sensors=[landing_sensor],
    schedules=[monthly_close],
    resources={
        "suptech": SupTechHome(home=os.environ.get("SUPTECH_HOME")),
        "dbt": DbtCliResource(
            project_dir=dbt_project,
            profiles_dir=str(DBT_PROJECT_DIR),
            dbt_executable=str(Path(sys.executable).with_name("dbt")),
        ),
    },
)
