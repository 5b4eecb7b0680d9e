"""What the Dagster console shows: the published snapshot's metadata and the sensor's skip reason."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines import definitions
from pipelines.home import Home
from tests.unit.test_supervision_report import make_snapshot


def test_snapshot_metadata_counts_alerts_and_lists_breaches(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path).ensure()
    path = make_snapshot(home.published / "suptech.duckdb")
    meta = definitions._snapshot_metadata(home, path)
    assert meta["submissions_by_status"].data == {"ACCEPTED": 2, "REJECTED": 1}
    assert meta["latest_period"] == "2026-10"
    assert meta["alerts_latest_period"].data == {"BREACH": 1, "WARN": 1}
    breaches = meta["breaches_latest_period"].md_str
    assert "| 2026-10 | PAY0001 | RES-001 | RES | RES-001 coverage 0.9 BREACH |" in breaches
    assert "AML-003" not in breaches  # a WARN, not a breach
    assert "| marts.fct_indicator_values | 8 |" in meta["row_counts"].md_str
    assert "| intake.submissions | 3 |" in meta["row_counts"].md_str
    assert not (home.reports / "supervision").exists()  # the period_reports step writes them, not this


def test_period_reports_metadata_lists_what_was_written(tmp_path: Path) -> None:
    written = [tmp_path / "supervision" / "2026-10.html", tmp_path / "quality" / "2026-10.html"]
    meta = definitions._reports_metadata(written, written[:1])
    assert str(written[1]) in meta["written"].md_str
    assert meta["latest_report"].path == str(written[0])
    assert definitions._reports_metadata([], [])["written"].md_str == "none (all up to date)"


def test_sensor_skip_reason_says_what_it_found(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path).ensure()
    resource = definitions.SupTechHome(home=str(home.root))
    with dg.build_sensor_context(resources={"suptech": resource}) as ctx:
        empty = definitions.landing_sensor(ctx)
    assert empty.skip_message == f"no complete package in {home.landing}"
    (home.landing / "PAY0001" / "PAY0001-2026-10-v1").mkdir(parents=True)  # files arriving, no manifest yet
    with dg.build_sensor_context(resources={"suptech": resource}) as ctx:
        waiting = definitions.landing_sensor(ctx)
    assert isinstance(waiting, dg.SkipReason)
    assert "1 folder(s) waiting for their manifest" in waiting.skip_message
