"""DuckDB's memory_limit, threads and temp_directory come from one place (pipelines/warehouse/settings.py)
and take effect on the writer connection, in dbt's connection and during the intake (issue 13, Deliver 5)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.home import Home
from pipelines.warehouse import settings
from pipelines.warehouse.db import connect_writer, writer_lock

AS_OF = datetime(2026, 11, 21, tzinfo=UTC)
QUERY = (
    "select current_setting('memory_limit') as memory_limit, current_setting('threads') as threads, "
    "current_setting('temp_directory') as temp_directory"
)


def _mib(text: str) -> float:
    """DuckDB's reported memory_limit ('1.4 GiB', '768.0 MiB') in MiB."""
    number, unit = text.split()
    return float(number) * {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024, "TiB": 1024**2}[unit]


@pytest.fixture
def configured(tmp_path, monkeypatch) -> Path:
    spill = tmp_path / "spill here"
    monkeypatch.setenv(settings.MEMORY_LIMIT_ENV, "768MB")
    monkeypatch.setenv(settings.THREADS_ENV, "1")
    monkeypatch.setenv(settings.TEMP_DIRECTORY_ENV, str(spill))
    return spill


def test_defaults_and_the_home_spill_folder(tmp_path) -> None:
    home = Home.resolve(tmp_path / "home")
    s = settings.resolve(home.warehouse, env={})
    assert s.temp_directory == home.tmp / "duckdb"  # scratch space: never backed up
    assert s.intake_memory_limit == "1500MB"
    assert s.memory_limit.endswith("GiB") and 1 <= int(s.memory_limit[:-3]) <= 8
    assert s.threads >= 1
    elsewhere = settings.resolve(tmp_path / "x.duckdb", env={})
    assert elsewhere.temp_directory == (tmp_path / "x.duckdb.tmp").resolve()  # DuckDB's own default


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (settings.MEMORY_LIMIT_ENV, "lots"),
        (settings.MEMORY_LIMIT_ENV, "4"),
        (settings.THREADS_ENV, "0"),
        (settings.THREADS_ENV, "two"),
        (settings.INTAKE_MEMORY_LIMIT_ENV, "1.5 gigs"),
    ],
)
def test_a_bad_value_names_its_variable(tmp_path, name, value) -> None:
    with pytest.raises(settings.SettingsError, match=name):
        settings.resolve(tmp_path / "x.duckdb", env={name: value})


def test_the_writer_connection_reports_the_settings(tmp_path, configured) -> None:
    home = Home.resolve(tmp_path / "home").ensure()
    with writer_lock(home), connect_writer(home) as con:
        memory_limit, threads, temp_directory = con.execute(QUERY).fetchone()
    assert abs(_mib(memory_limit) - 768 * 1e6 / 2**20) < 1  # DuckDB's MB is 10^6 bytes
    assert int(threads) == 1
    assert Path(temp_directory) == configured


def test_the_writer_spills_to_the_temp_directory(tmp_path, monkeypatch) -> None:
    """Beyond memory_limit the writer spills to <home>/tmp/duckdb instead of failing, and DuckDB
    removes its spill files when the connection closes."""
    monkeypatch.setenv(settings.MEMORY_LIMIT_ENV, "100MB")
    monkeypatch.setenv(settings.THREADS_ENV, "1")
    monkeypatch.delenv(settings.TEMP_DIRECTORY_ENV, raising=False)
    home = Home.resolve(tmp_path / "home").ensure()
    spill = home.tmp / "duckdb"
    seen: list[Path] = []
    with writer_lock(home), connect_writer(home) as con:
        con.execute("set preserve_insertion_order = false")
        n = con.execute(
            "select count(*) from (select i, md5(i::varchar) as h from range(3000000) t(i) order by h)"
        ).fetchone()[0]
        used = con.execute("select coalesce(sum(size), 0) from duckdb_temporary_files()").fetchone()[0]
        seen = list(spill.glob("*")) if spill.exists() else []
        # applying the settings again after a spill is harmless (a second `set temp_directory` is not)
        settings.apply(con, settings.resolve(home.warehouse))
        with pytest.raises(duckdb.NotImplementedException, match="temporary directory"):
            con.execute(f"set temp_directory = '{spill}'")
    assert n == 3_000_000
    assert used > 0 or seen, "nothing spilled under a 100MB limit"
    assert not spill.exists() or not any(spill.iterdir())


def test_the_intake_cap_comes_from_the_same_place(configured, monkeypatch) -> None:
    from pipelines.intake.service import bounded_memory, intake_memory_limit

    monkeypatch.setenv(settings.INTAKE_MEMORY_LIMIT_ENV, "300MB")
    assert intake_memory_limit() == "300MB"
    con = duckdb.connect()
    try:
        con.execute("set memory_limit = '768MB'")
        with bounded_memory(con):
            during = con.execute("select current_setting('memory_limit')").fetchone()[0]
        after = con.execute("select current_setting('memory_limit')").fetchone()[0]
    finally:
        con.close()
    assert abs(_mib(during) - 300 * 1e6 / 2**20) < 1
    assert abs(_mib(after) - 768 * 1e6 / 2**20) < 1


def test_dbt_connects_with_the_settings(tmp_path, configured) -> None:
    from pipelines.dbt_runner import run_dbt

    result = run_dbt(
        ["show", "--quiet", "--log-level", "none", "--inline", QUERY],
        warehouse=tmp_path / "dbt.duckdb",
        as_of=AS_OF,
        target_dir=tmp_path / "target",
    )
    assert result.success, result.exception
    (node,) = result.raw.results  # type: ignore[attr-defined]
    memory_limit, threads, temp_directory = node.agate_table.rows[0]
    assert abs(_mib(memory_limit) - 768 * 1e6 / 2**20) < 1
    assert int(threads) == 1
    assert Path(temp_directory) == configured


def test_dbt_sets_the_temp_directory_once_per_database() -> None:
    """dbt-duckdb runs the profile's `settings` on every new cursor (a thread, a model): after a spill a
    second `set temp_directory` fails ("Cannot switch temporary directory after the current one has been
    used", seen at `medium`), so the profile gives it as a connect-time config option."""
    import yaml

    from pipelines.dbt_runner import PROJECT_DIR

    output = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())["suptech"]["outputs"]["warehouse"]
    assert "temp_directory" not in output["settings"]
    assert "SUPTECH_DUCKDB_TEMP_DIRECTORY" in output["config_options"]["temp_directory"]
    assert {"memory_limit", "threads"} <= set(output["settings"])
