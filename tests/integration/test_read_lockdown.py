"""Analysts read, never write: every escape from the read path is refused, through `suptech query` and
through connect_reader, and the live warehouse, both snapshots and a report stay byte-identical.

On the code before the lockdown, a read-only connection could ATTACH the live file READ_WRITE and UPDATE
it, COPY over any file the process can write, and read any file (read_csv('/etc/passwd')).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.home import Home
from pipelines.warehouse.db import (
    connect_reader,
    connect_writer,
    publish_snapshot,
    snapshot_path,
    writer_lock,
)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    home = Home.resolve(tmp_path_factory.mktemp("lockdown") / "home").ensure()
    with writer_lock(home):
        with connect_writer(home) as con:
            con.execute(
                "insert into intake.submissions (submission_id, enterprise_id, period, received_at, status, "
                "status_at) values ('PAY0001-2026-10-v1', 'PAY0001', '2026-10', now(), 'ACCEPTED', now())"
            )
        publish_snapshot(home)
    report = home.reports / "supervision" / "2026-10.html"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("<html>the supervision report</html>", encoding="utf-8")
    return home


def _protected(home: Home) -> dict[str, Path]:
    return {
        "live": home.warehouse,
        "snapshot": snapshot_path(home),
        "auditor": snapshot_path(home, "auditor"),
        "report": home.reports / "supervision" / "2026-10.html",
    }


def _escapes(home: Home, tmp: Path) -> dict[str, str]:
    p = {k: str(v) for k, v in _protected(home).items()}
    return {
        "attach live read_write + update": (
            f"attach '{p['live']}' as w (read_write); update w.intake.submissions set status = 'HACKED'"
        ),
        "attach live read_only": f"attach '{p['live']}' as w (read_only); select count(*) from w.intake.submissions",
        "copy over the snapshot": f"copy (select 42 as x) to '{p['snapshot']}' (format csv)",
        "copy over the auditor snapshot": f"copy (select 42 as x) to '{p['auditor']}' (format csv)",
        "copy over the live file": f"copy (select 42 as x) to '{p['live']}' (format csv)",
        "copy over a report": f"copy (select 'defaced' as x) to '{p['report']}' (format csv, header false)",
        "copy a table out": f"copy intake.submissions to '{tmp / 'leak.parquet'}' (format parquet)",
        "read_csv /etc/passwd": "select * from read_csv('/etc/passwd', header = false)",
        "read_text /etc/passwd": "select content from read_text('/etc/passwd')",
        "glob /etc": "select * from glob('/etc/*')",
        "read_blob live": f"select content from read_blob('{p['live']}')",
        "read_text live": f"select content from read_text('{p['live']}')",
        "read_parquet live": f"select * from read_parquet('{p['live']}')",
        "replacement scan of a file": "select * from '/etc/passwd'",
        "install": "install httpfs",
        "load a file": f"load '{tmp / 'evil.duckdb_extension'}'",
        "set enable_external_access": "set enable_external_access = true",
        "set lock_configuration": "set lock_configuration = false",
        "set a setting": "set memory_limit = '1GB'",
        "create table": "create table intake.evil as select 1 as x",
        "update": "update intake.submissions set status = 'HACKED'",
        "pragma profiling output": f"pragma enable_profiling = 'json'; pragma profiling_output = '{p['report']}'",
        "call enable_logging": "call enable_logging()",
        "call sniff_csv": "call sniff_csv('/etc/passwd')",
        "create secret": "create persistent secret s (type s3, key_id 'a', secret 'b')",
        "export database": f"export database '{tmp / 'exported'}'",
    }


def _digests(home: Home) -> dict[str, str]:
    return {k: hashlib.sha256(v.read_bytes()).hexdigest() for k, v in _protected(home).items()}


@pytest.mark.parametrize("kind", ["analyst", "auditor"])
def test_every_escape_through_the_cli_is_refused(home: Home, tmp_path: Path, kind: str) -> None:
    before = _digests(home)
    runner = CliRunner()
    accepted = {}
    for name, sql in _escapes(home, tmp_path).items():
        result = runner.invoke(cli, ["query", "--home", str(home.root), "--as", kind, sql, "--format", "csv"])
        if result.exit_code != 1 or "query failed" not in result.output:
            accepted[name] = result.output[-300:]
    assert accepted == {}
    assert _digests(home) == before
    assert list(tmp_path.iterdir()) == []


def test_every_escape_through_connect_reader_is_refused(home: Home, tmp_path: Path) -> None:
    before = _digests(home)
    accepted = []
    for kind in ("analyst", "auditor"):
        for name, sql in _escapes(home, tmp_path).items():
            con = connect_reader(home, kind)
            try:
                con.execute(sql)
                accepted.append(f"{kind}: {name}")
            except duckdb.Error:
                pass
            finally:
                con.close()
    assert accepted == []
    assert _digests(home) == before
    assert list(tmp_path.iterdir()) == []
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        assert con.execute("select status from intake.submissions").fetchall() == [("ACCEPTED",)]
    finally:
        con.close()


def test_reading_still_works_and_results_are_written_by_the_command(home: Home, tmp_path: Path) -> None:
    con = connect_reader(home)
    try:
        assert con.execute("select current_setting('TimeZone')").fetchone() == ("UTC",)
        assert con.execute("select count(*) from intake.submissions").fetchone() == (1,)
        assert con.execute("select kind from meta.publication").fetchone() == ("analyst",)
    finally:
        con.close()
    target = tmp_path / "out.parquet"
    result = CliRunner().invoke(
        cli,
        [
            "query",
            "--home",
            str(home.root),
            "select submission_id from intake.submissions",
            "--format",
            "parquet",
            "--out",
            str(target),
        ],
    )
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(target).rows() == [("PAY0001-2026-10-v1",)]
    result = CliRunner().invoke(
        cli, ["export", "--home", str(home.root), "--schema", "intake", "--out", str(tmp_path / "exp")]
    )
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(tmp_path / "exp" / "submissions.parquet").height == 1
