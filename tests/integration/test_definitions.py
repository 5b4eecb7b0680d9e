"""Dagster: the definitions load, the sensor sees packages, and the job runs a cycle on the examples."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines import definitions
from pipelines.home import Home
from tests.support import drop_examples

ROOT = Path(__file__).resolve().parents[2]


def test_definitions_load_with_assets_sensor_schedule() -> None:
    defs = definitions.defs
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw/transactions", "intake/submissions", "published_snapshot"} <= keys
    assert any(k.endswith("fct_indicator_values") for k in keys)
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
    with dg.build_sensor_context(resources={"suptech": resource}) as ctx:
        again = definitions.landing_sensor(ctx)
    assert again.run_key == request.run_key  # the same packages never start a second run


@pytest.mark.slow
def test_job_runs_a_full_cycle_on_the_examples(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path).ensure()
    drop_examples(home.landing)
    result = dg.materialize(
        [definitions.filings_intake, definitions.dbt_models, definitions.published_snapshot],
        resources={
            "suptech": definitions.SupTechHome(home=str(home.root)),
            "dbt": definitions.defs.resources["dbt"],
        },
        tags={definitions.AS_OF_TAG: "2026-12-01T00:00:00+00:00", definitions.BACKFILL_TAG: "true"},
    )
    assert result.success
    con = duckdb.connect(str(home.published / "suptech.duckdb"), read_only=True)
    try:
        assert con.execute("select submission_id, status from intake.submissions order by 1").fetchall() == [
            ("P2P0001-2026-10-v1", "ACCEPTED"),
            ("PAY0001-2026-10-v1", "ACCEPTED"),
        ]
        worst = con.execute(
            "select value, status from marts.fct_indicator_values where indicator_id = 'RES-001' "
            "and enterprise_id = 'PAY0001' and metric = 'coverage_ratio_worst_day'"
        ).fetchall()
        assert worst == [(pytest.approx(1.0), "OK")]
    finally:
        con.close()


def test_period_partitions_backfill_runs_a_cycle_as_of_the_close(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path).ensure()
    drop_examples(home.landing)
    keys = definitions.PERIODS.get_partition_keys(current_time=datetime(2026, 12, 5, tzinfo=UTC))
    assert keys[0] == "2017-01" and keys[-1] == "2026-11" and "2026-10" in keys
    result = definitions.period_cycle.execute_in_process(
        partition_key="2026-10", resources={"suptech": definitions.SupTechHome(home=str(home.root))}
    )
    assert result.success
    [mat] = [
        e.event_specific_data.materialization
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
    ]
    assert mat.metadata["as_of"].value == "2026-11-30T15:59:59+00:00"  # 23:59:59 Shanghai on the 30th
    con = duckdb.connect(str(home.published / "suptech.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*), min(status) from intake.submissions").fetchone() == (
            2,
            "ACCEPTED",
        )
        computed = con.execute("select distinct computed_at from marts.fct_indicator_values").fetchall()
        assert [c[0].astimezone(UTC).isoformat() for c in computed] == ["2026-11-30T15:59:59+00:00"]
    finally:
        con.close()
