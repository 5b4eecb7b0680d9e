"""The one Dagster Definitions object: the cycle's assets, the dbt tests as asset checks, the sensor, the
monthly schedule, the period partitions and the resources.

One asset per step of the cycle (pipelines/cycle.py), each calling exactly that step function, in the
cycle's order:

    filings_intake (raw.*, intake.*) -> validity_and_decisions (quality.*) -> edit_reports
    -> dbt models (dbt build: seeds, models, data tests as asset checks; unit tests run in `make test`)
    -> dbt_docs (regenerated when the dbt project changed) -> published_snapshot -> period_reports -> lake

`suptech run` runs the same steps in the same order (`pipelines.cycle.run_cycle`); a test materializes
this graph and runs the CLI's cycle on the same packages and compares the warehouses and the reports
(tests/integration/test_cycle_paths.py).

The assets are partitioned by filing period (PERIODS): a run recomputes the whole warehouse as of its
clock, and its partition is the last period closed at that clock (`period_of`). The sensor and the
schedule set the clock (tag suptech/as_of); a run for a partition without that tag (a backfill by period
from the UI, `dagster job backfill -j period_cycle --partitions ...`) runs as of the period's close and
takes in waiting deliveries as a backfill (received_at = manifest mtime). Every step holds the
single-writer lock; runs use the in-process executor and the `warehouse_writer` pool, so two runs never
interleave on the warehouse.
"""

import hashlib
import json
import os
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext, ScheduleEvaluationContext, SensorEvaluationContext
from dagster_dbt import DagsterDbtTranslator, DbtProject, dbt_assets

from pipelines import cycle
from pipelines.calendar import SHANGHAI, close_at, manifest_grace_seconds
from pipelines.dbt_runner import DBT_PROJECT_DIR, ensure_manifest
from pipelines.home import Home
from pipelines.intake.package import discover, printable
from pipelines.warehouse.db import connect_reader, writer_lock

AS_OF_TAG = "suptech/as_of"
BACKFILL_TAG = "suptech/backfill"
POOL = "warehouse_writer"
DBT_UNIQUE_ID = "dagster_dbt/unique_id"  # dagster-dbt's metadata key naming a spec's dbt node

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
MANIFEST = ensure_manifest()

# Filing periods as Dagster partitions (keys YYYY-MM, Shanghai calendar). A backfill over a range of
# periods runs one full cycle per period (one run each), as of that period's close.
PERIODS = dg.MonthlyPartitionsDefinition(start_date="2017-01", timezone="Asia/Shanghai", fmt="%Y-%m")
ONE_PERIOD_PER_RUN = dg.BackfillPolicy.multi_run(1)  # every asset the same: one run per period, all steps
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)


class SupTechHome(dg.ConfigurableResource):
    """Where all state lives (SUPTECH_HOME)."""

    home: str | None = None

    def resolve(self) -> Home:
        return Home.resolve(self.home).ensure()


def period_of(clock: datetime) -> str:
    """A run's partition: the last filing period closed at `clock` (within the partitions that exist now)."""
    first = PERIODS.get_first_partition_key() or "2017-01"
    last = PERIODS.get_last_partition_key() or first
    local = clock.astimezone(SHANGHAI)
    index = local.year * 12 + local.month - 1
    for _ in range(36):
        key = f"{index // 12:04d}-{index % 12 + 1:02d}"
        if key <= first:
            return first
        try:
            if close_at(None, key) <= clock:
                return min(key, last)
        except (LookupError, ValueError):  # a period the filing calendar does not cover
            pass
        index -= 1
    return first


def _as_of(context: AssetExecutionContext) -> datetime:
    """The run's clock: its suptech/as_of tag, else its period's close."""
    tag = context.run.tags.get(AS_OF_TAG)
    if tag:
        return datetime.fromisoformat(tag).astimezone(UTC)
    return close_at(None, context.partition_key)


def _cycle(context: AssetExecutionContext, suptech: SupTechHome, *, first: bool = False) -> cycle.CycleRun:
    """The step's view of the run: home, clock, backfill flag, progress into the run's log (`first`: the
    run's first step, which begins the cycle as `run_cycle` does)."""
    tags = context.run.tags
    make = cycle.begin if first else cycle.CycleRun
    return make(
        suptech.resolve(),
        as_of=_as_of(context),
        backfill=tags.get(BACKFILL_TAG) == "true" or AS_OF_TAG not in tags,
        progress=lambda step, i, n: context.log.info(f"{step} ({i}/{n})"),
    )


def _source_keys() -> list[dg.AssetKey]:
    sources = json.loads(Path(MANIFEST).read_text())["sources"].values()
    return sorted({dg.AssetKey([s["source_name"], s["name"]]) for s in sources}, key=lambda k: tuple(k.path))


# The dbt sources: intake writes raw.* and intake.*, the validity stage quality.* (its decisions also set
# intake.submissions' statuses).
INTAKE_KEYS = [k for k in _source_keys() if k.path[0] != "quality"]
QUALITY_KEYS = [k for k in _source_keys() if k.path[0] == "quality"]


def _status_table(statuses: dict[str, str]) -> str:
    return "| submission | status |\n|---|---|\n" + "\n".join(
        f"| {k} | {v} |" for k, v in sorted(statuses.items())
    )


def _by_status(home: Home) -> dict[str, int]:
    from pipelines.warehouse.db import connect_writer

    with connect_writer(home) as con:
        return dict(con.execute("select status, count(*) from intake.submissions group by 1").fetchall())


@dg.multi_asset(
    specs=[dg.AssetSpec(key, group_name="intake", kinds={"duckdb"}) for key in INTAKE_KEYS],
    can_subset=False,
    pool=POOL,
    partitions_def=PERIODS,
    backfill_policy=ONE_PERIOD_PER_RUN,
)
def filings_intake(context: AssetExecutionContext, suptech: SupTechHome):
    """Step `intake`: S rules, typed load and archive of every complete package in the landing area."""
    run = _cycle(context, suptech, first=True)
    with writer_lock(run.home):
        outcomes = cycle.intake(run)
        by_status = _by_status(run.home)
    statuses = {o.submission_id: o.status for o in outcomes}
    for key in INTAKE_KEYS:
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "as_of": run.as_of.isoformat(),
                "backfill": run.backfill,
                "this_run": dg.MetadataValue.json(dict(Counter(statuses.values()))),
                "all_submissions_by_status": dg.MetadataValue.json(by_status),
                **(
                    {"submissions": dg.MetadataValue.md(_status_table(statuses))}
                    if key.path == ["intake", "submissions"]
                    else {}
                ),
            },
        )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(key, group_name="intake", kinds={"duckdb"}, deps=INTAKE_KEYS) for key in QUALITY_KEYS
    ],
    can_subset=False,
    pool=POOL,
    partitions_def=PERIODS,
    backfill_policy=ONE_PERIOD_PER_RUN,
)
def validity_and_decisions(context: AssetExecutionContext, suptech: SupTechHome):
    """Step `validity_and_decisions`: V rules, the Q and M stages and the statuses of every loaded,
    undecided submission (findings and rule results in quality.*)."""
    run = _cycle(context, suptech)
    with writer_lock(run.home):
        decided = cycle.validity_and_decisions(run)
        by_status = _by_status(run.home)
    for key in QUALITY_KEYS:
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "as_of": run.as_of.isoformat(),
                "decided": dg.MetadataValue.json(dict(Counter(decided.values()))),
                "all_submissions_by_status": dg.MetadataValue.json(by_status),
                "submissions": dg.MetadataValue.md(_status_table(decided)),
            },
        )


@dg.asset(
    deps=QUALITY_KEYS,
    group_name="reports",
    kinds={"html"},
    pool=POOL,
    partitions_def=PERIODS,
    backfill_policy=ONE_PERIOD_PER_RUN,
)
def edit_reports(context: AssetExecutionContext, suptech: SupTechHome) -> dg.MaterializeResult:
    """Step `edit_reports`: reports/edit/<submission>.{csv,json,html} for every submission whose report
    is missing or stale."""
    run = _cycle(context, suptech)
    with writer_lock(run.home):
        written = cycle.edit_reports(run)
    return dg.MaterializeResult(
        metadata={"written": len(written), "folder": dg.MetadataValue.path(str(run.home.reports / "edit"))}
    )


class _CycleOrder(DagsterDbtTranslator):
    """dagster-dbt's default asset specs, the seeds after the edit reports: the dbt step runs where the
    cycle runs it (the seeds read nothing upstream, so nothing else would order them)."""

    def get_asset_spec(self, manifest, unique_id, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        if unique_id.startswith("seed."):
            spec = spec.replace_attributes(deps=[*spec.deps, dg.AssetDep(edit_reports.key)])
        return spec


def _dbt_selection(context: AssetExecutionContext) -> list[str]:
    """The dbt nodes (by fully qualified name) of a subset run; [] when every dbt asset is selected."""
    assets_def = context.assets_def
    if set(context.selected_asset_keys) == set(assets_def.keys):
        return []
    nodes = json.loads(Path(MANIFEST).read_text())["nodes"]
    return sorted(
        ".".join(nodes[assets_def.get_asset_spec(key).metadata[DBT_UNIQUE_ID]]["fqn"])
        for key in context.selected_asset_keys
    )


@dbt_assets(
    manifest=MANIFEST,
    project=dbt_project,
    dagster_dbt_translator=_CycleOrder(),
    pool=POOL,
    partitions_def=PERIODS,
    backfill_policy=ONE_PERIOD_PER_RUN,
)
def dbt_models(context: AssetExecutionContext, suptech: SupTechHome) -> Iterator:
    """Step `dbt_models`: seeds, models and data tests at the run's clock (in-process dbt, as the CLI);
    each node that ran becomes a materialization, each data test an asset check result."""
    run = _cycle(context, suptech)
    with writer_lock(run.home):
        result = cycle.dbt_models(run, select=_dbt_selection(context))
    assets_def = context.assets_def
    keys = {
        assets_def.get_asset_spec(key).metadata[DBT_UNIQUE_ID]: key for key in context.selected_asset_keys
    }
    checks = {
        (check.metadata or {}).get(DBT_UNIQUE_ID): check
        for check in assets_def.check_specs
        if check.key in context.selected_asset_check_keys
    }
    # in dbt's order of completion: a node after its parents, as Dagster wants them
    for unique_id, status in result.node_statuses.items():
        if unique_id in keys and status == "success":
            yield dg.MaterializeResult(asset_key=keys[unique_id], metadata={"as_of": run.as_of.isoformat()})
        elif unique_id in checks and status in ("pass", "warn", "fail"):
            check = checks[unique_id]
            yield dg.AssetCheckResult(
                asset_key=check.asset_key,
                check_name=check.name,
                passed=status == "pass",
                severity=dg.AssetCheckSeverity.WARN if status == "warn" else dg.AssetCheckSeverity.ERROR,
                metadata={"status": status},
            )


@dg.asset(
    deps=[dbt_models],
    group_name="publish",
    kinds={"html"},
    pool=POOL,
    partitions_def=PERIODS,
    backfill_policy=ONE_PERIOD_PER_RUN,
)
def dbt_docs(context: AssetExecutionContext, suptech: SupTechHome) -> dg.MaterializeResult:
    """Step `dbt_docs`: the offline dbt docs page (reports/dbt_docs/static_index.html), regenerated when
    the dbt project or the warehouse schema changed."""
    run = _cycle(context, suptech)
    with writer_lock(run.home):
        page = cycle.dbt_docs(run)
    return dg.MaterializeResult(
        metadata={
            "regenerated": page is not None,
            "page": dg.MetadataValue.path(str(run.home.reports / "dbt_docs" / "static_index.html")),
        }
    )


@dg.asset(
    deps=[dbt_docs, edit_reports],
    group_name="publish",
    kinds={"duckdb"},
    pool=POOL,
    partitions_def=PERIODS,
    backfill_policy=ONE_PERIOD_PER_RUN,
)
def published_snapshot(context: AssetExecutionContext, suptech: SupTechHome) -> dg.MaterializeResult:
    """Step `publish`: the analysts' pseudonymised snapshot and the auditors' snapshot, built new and swapped
    in atomically (pipelines/warehouse/publish.py); the metadata comes from the analysts' one."""
    run = _cycle(context, suptech)
    with writer_lock(run.home):
        path = cycle.publish(run)
    return dg.MaterializeResult(
        metadata={"as_of": run.as_of.isoformat(), **_snapshot_metadata(run.home, path)}
    )


def _snapshot_metadata(home: Home, path: Path) -> dict:
    """Row counts, submissions by status, the latest period's alerts and breaches."""
    from pipelines.reports.snapshot_metadata import summarise_snapshot

    con = connect_reader(home)
    try:
        periods = [
            r[0]
            for r in con.sql(
                "select distinct period from intake.submissions where period is not null order by 1"
            ).fetchall()
        ]
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
    }


@dg.asset(
    deps=[published_snapshot],
    group_name="publish",
    kinds={"html"},
    pool=POOL,
    partitions_def=PERIODS,
    backfill_policy=ONE_PERIOD_PER_RUN,
)
def period_reports(context: AssetExecutionContext, suptech: SupTechHome) -> dg.MaterializeResult:
    """Step `period_reports`: reports/supervision/<period>.html and reports/quality/<period>.html of every
    period, from the published snapshot, where missing or stale."""
    run = _cycle(context, suptech)
    with writer_lock(run.home):
        written = cycle.period_reports(run)
    supervision = sorted(run.home.reports.glob("supervision/*.html"))
    return dg.MaterializeResult(metadata=_reports_metadata(written, supervision))


def _reports_metadata(written: list[Path], supervision: list[Path]) -> dict:
    return {
        "written": dg.MetadataValue.md("\n".join(f"- {p}" for p in written) or "none (all up to date)"),
        "latest_report": dg.MetadataValue.path(str(supervision[-1])) if supervision else "none",
    }


@dg.asset(
    deps=[period_reports],
    group_name="publish",
    kinds={"parquet"},
    pool=POOL,
    partitions_def=PERIODS,
    backfill_policy=ONE_PERIOD_PER_RUN,
)
def lake(context: AssetExecutionContext, suptech: SupTechHome) -> dg.MaterializeResult:
    """Step `lake`: <home>/lake, the open Parquet layout (raw filings and intake tables for the writer, Spark
    and auditors; the analysts' marts), new and changed partitions only (pipelines/warehouse/lake.py)."""
    run = _cycle(context, suptech)
    with writer_lock(run.home):
        report = cycle.lake(run)
    return dg.MaterializeResult(
        metadata={
            "raw_folders_written": len(report.raw_folders),
            "partitions_written": len(report.partitions),
            "partitions_removed": len(report.removed),
            "folder": dg.MetadataValue.path(str(run.home.root / "lake")),
        }
    )


ASSETS = [
    filings_intake,
    validity_and_decisions,
    edit_reports,
    dbt_models,
    dbt_docs,
    published_snapshot,
    period_reports,
    lake,
]

cycle_job = dg.define_asset_job(
    "monthly_cycle",
    selection=dg.AssetSelection.assets(*ASSETS),
    executor_def=dg.in_process_executor,
    description="One full cycle (every step of pipelines/cycle.py) at the run's clock.",
)

# The same graph, each partition's run as of its period's close, taking deliveries in as a backfill.
period_cycle = dg.define_asset_job(
    "period_cycle",
    selection=dg.AssetSelection.assets(*ASSETS),
    executor_def=dg.in_process_executor,
    tags={BACKFILL_TAG: "true"},
    description="One full cycle per filing period, as of its close: backfills by period.",
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
    return dg.RunRequest(run_key=run_key, partition_key=period_of(now), tags={AS_OF_TAG: now.isoformat()})


@dg.schedule(job=cycle_job, cron_schedule="0 2 1 * *", execution_timezone="Asia/Shanghai")
def monthly_close(context: ScheduleEvaluationContext):
    """Monthly run after period close: recomputes the marts with the close of the month two back final."""
    when = context.scheduled_execution_time.astimezone(UTC)
    return dg.RunRequest(
        run_key=when.isoformat(), partition_key=period_of(when), tags={AS_OF_TAG: when.isoformat()}
    )


def period_backfill_tags(period: str) -> dict[str, str]:
    """Tags to recompute as of a period's close (for backfills by period from the UI or CLI)."""
    return {AS_OF_TAG: close_at(None, period).isoformat(), BACKFILL_TAG: "true"}


defs = dg.Definitions(
    assets=ASSETS,
    jobs=[cycle_job, period_cycle],
    sensors=[landing_sensor],
    schedules=[monthly_close],
    resources={"suptech": SupTechHome(home=os.environ.get("SUPTECH_HOME"))},
)
