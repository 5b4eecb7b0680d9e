"""pipelines.dbt_runner: failures name their nodes, and the warehouse is free again afterwards."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from pipelines.dbt_runner import DbtBuildError, as_of_text, build


def test_as_of_is_passed_as_utc() -> None:
    assert as_of_text(datetime(2026, 12, 1, 8, 0)) == "2026-12-01T08:00:00+00:00"
    shanghai = datetime.fromisoformat("2026-12-01T08:00:00+08:00")
    assert as_of_text(shanghai) == "2026-12-01T00:00:00+00:00"


def test_failing_build_names_the_failing_nodes_and_releases_the_file(tmp_path) -> None:
    warehouse = tmp_path / "empty.duckdb"  # no intake schema: the source table is missing
    duckdb.connect(str(warehouse)).close()
    with pytest.raises(DbtBuildError) as caught:
        build(
            warehouse,
            datetime(2026, 12, 1, tzinfo=UTC),
            target_dir=tmp_path / "target",
            select=["stg_intake__submissions"],
        )
    error = caught.value
    assert error.result.failed_nodes == ["model.suptech.stg_intake__submissions"]
    assert "model.suptech.stg_intake__submissions [error]" in str(error)
    assert "intake" in str(error)  # dbt's own reason (the missing relation) is kept
    # dbt-duckdb's in-process database is closed: the file opens read-only and read-write again
    duckdb.connect(str(warehouse), read_only=True).close()
    duckdb.connect(str(warehouse)).close()
