"""Dagster: the definitions load (one asset per cycle step, partitioned by period), the sensor sees packages,
the schedule and the sensor name their run's period. The job's cycle itself, compared with the CLI's:
tests/integration/test_cycle_paths.py."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg

from pipelines import definitions
from pipelines.calendar import SHANGHAI
from pipelines.home import Home
from tests.support import drop_examples

ROOT = Path(__file__).resolve().parents[2]


def test_definitions_load_with_assets_sensor_schedule() -> None:
    defs = definitions.defs
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw/transactions", "intake/submissions", "quality/findings", "published_snapshot"} <= keys
    assert {"edit_reports", "dbt_docs", "period_reports"} <= keys
    assert any(k.endswith("fct_indicator_values") for k in keys)
    for job in ("monthly_cycle", "period_cycle"):
        assert defs.resolve_job_def(job).partitions_def == definitions.PERIODS
    assert defs.resolve_sensor_def("landing_sensor") is not None
    assert defs.resolve_schedule_def("monthly_close") is not None
    assert defs.resolve_job_def("monthly_cycle") is not None


def test_workspace_validates_like_dagster_dev() -> None:
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_sensor_requests_a_run_only_when_packages_wait(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path).ensure()
    resource = definitions.SupTechHome(home=str(home.root))
    with dg.build_sensor_context(resources={"suptech": resource}) as ctx:
        assert isinstance(definitions.landing_sensor(ctx), dg.SkipReason)
    drop_examples(home.landing)
    with dg.build_sensor_context(resources={"suptech": resource}) as ctx:
        request = definitions.landing_sensor(ctx)
    assert isinstance(request, dg.RunRequest)
    assert definitions.AS_OF_TAG in request.tags
    assert request.partition_key == definitions.period_of(
        datetime.fromisoformat(request.tags[definitions.AS_OF_TAG])
    )
    with dg.build_sensor_context(resources={"suptech": resource}) as ctx:
        again = definitions.landing_sensor(ctx)
    assert again.run_key == request.run_key  # the same packages never start a second run


def test_the_schedule_and_the_partitions_name_the_last_period_closed_at_the_clock() -> None:
    keys = definitions.PERIODS.get_partition_keys(current_time=datetime(2026, 12, 5, tzinfo=UTC))
    assert keys[0] == "2017-01" and keys[-1] == "2026-11" and "2026-10" in keys
    close = datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC)  # 2026-10 closes 23:59:59 Shanghai on the 30th
    assert definitions.period_of(close) == "2026-10"
    assert definitions.period_of(close - timedelta(seconds=1)) == "2026-09"
    assert definitions.period_of(datetime(2010, 1, 1, tzinfo=UTC)) == "2017-01"
    with dg.build_schedule_context(scheduled_execution_time=datetime(2026, 12, 1, 2, tzinfo=SHANGHAI)) as ctx:
        request = definitions.monthly_close(ctx)
    assert request.partition_key == "2026-10"
    assert request.tags[definitions.AS_OF_TAG] == "2026-11-30T18:00:00+00:00"


def test_the_dbt_step_runs_after_the_edit_reports_without_unit_tests(tmp_path: Path, monkeypatch) -> None:
    graph = definitions.defs.resolve_asset_graph()
    seeds = [k for k in graph.get_all_asset_keys() if k.path[0] == "seeds"]
    assert seeds and all(definitions.edit_reports.key in graph.get(k).parent_keys for k in seeds)
    from pipelines import cycle, dbt_runner

    calls: list[dict] = []

    def build(*args, **kwargs) -> dbt_runner.DbtResult:
        calls.append(kwargs)
        return dbt_runner.DbtResult(args=["build"], success=True, elapsed_s=0.0)

    monkeypatch.setattr(dbt_runner, "build", build)
    run = cycle.CycleRun(Home.resolve(tmp_path), datetime(2026, 12, 1, tzinfo=UTC))
    cycle.dbt_models(run)
    assert calls and calls[0]["exclude_unit_tests"] is True  # they read no data: `make test` runs them
    assert calls[0]["full_refresh"] is False and run.report.dbt_full_refresh is False
