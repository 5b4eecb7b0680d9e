"""R4: analysts and auditors query the published snapshots continuously while a cycle runs and publishes.

A reader process loops over `connect_reader` + one query + close (the path `suptech query` takes), on the
analysts' and the auditors' snapshot in turn, while this process runs a full cycle (intake, validity, dbt
build, publish) that swaps new snapshots in, then publishes once more (the auditors' older slot brought up to
date in place).
Every query must succeed and see one whole version: the old snapshot or the new one, never a mix.
"""

from __future__ import annotations

import multiprocessing as mp
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.cycle import run_cycle
from pipelines.home import Home
from pipelines.warehouse.db import connect_reader, publish_snapshot, snapshot_path
from tests.support import drop_package, example_packages

AS_OF = datetime(2026, 12, 1, tzinfo=UTC)
KINDS = ("analyst", "auditor")  # the reader alternates between the two snapshots
MIN_QUERIES = 1000
PAUSE_S = 0.005  # between queries: leave the cycle its CPU on a 2-core machine
# One statement reading two schemas: both counts come from the same file version.
VERSION_SQL = (
    "select (select count(*) from intake.submissions) as submissions, "
    "(select count(*) from information_schema.tables where table_schema = 'marts') as marts"
)


def _reader(root: str, started, stop, results) -> None:
    """Query until told to stop (and at least MIN_QUERIES times); report versions seen and errors."""
    home = Home(Path(root))
    seen: dict[tuple[int, int], int] = {}
    errors: list[str] = []
    n = 0
    while n < MIN_QUERIES or not stop.is_set():
        try:
            con = connect_reader(home, KINDS[n % 2])
            try:
                row = con.sql(VERSION_SQL).pl().row(0)
            finally:
                con.close()
            seen[row] = seen.get(row, 0) + 1
            started.set()
        except Exception as exc:  # noqa: BLE001 - every failure is a finding of this test
            errors.append(f"{type(exc).__name__}: {exc}")
        n += 1
        time.sleep(PAUSE_S)
    results.put({"queries": n, "seen": seen, "errors": errors[:5], "n_errors": len(errors)})


def test_readers_see_whole_versions_while_a_cycle_publishes(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path / "home").ensure()
    first, second = example_packages()[:2]
    drop_package(first, home.landing)
    # version 1: one submission taken in, no marts yet
    run_cycle(home, as_of=AS_OF, backfill=True, build_marts=False)
    v1 = _version(home)
    assert v1[0] == 1 and v1[1] == 0

    drop_package(second, home.landing)
    ctx = mp.get_context("spawn")
    started, stop, results = ctx.Event(), ctx.Event(), ctx.Queue()
    reader = ctx.Process(target=_reader, args=(str(home.root), started, stop, results))
    reader.start()
    try:
        assert started.wait(timeout=60), "the reader never got a first answer"
        report = run_cycle(home, as_of=AS_OF, backfill=True)  # version 2: intake + dbt + publish
        assert report.snapshot == snapshot_path(home)
        # the same version again: the auditors' slot of version 1 is brought up to date in place and
        # pointed to while the reader reads the other one
        slot_a = home.published / "slots" / "auditor-a.duckdb"
        inode = slot_a.stat().st_ino
        publish_snapshot(home, AS_OF)
        assert snapshot_path(home, "auditor").resolve() == slot_a and slot_a.stat().st_ino == inode
        stop.set()
        outcome = results.get(timeout=120)
        print(f"R4: {outcome['queries']} queries, versions seen {outcome['seen']}, cycle {report.timings}")
    finally:
        stop.set()
        reader.join(timeout=30)
        if reader.is_alive():
            reader.kill()

    v2 = _version(home)
    assert v2[0] == 2 and v2[1] > 0
    assert outcome["n_errors"] == 0, outcome["errors"]
    assert outcome["queries"] >= MIN_QUERIES
    seen = {tuple(k) for k in outcome["seen"]}
    assert seen <= {v1, v2}, seen  # never a half-published or mixed state
    assert v1 in seen  # the reader was running before the swap ...
    # ... and the swap happened while it ran (it kept querying until after the cycle returned)
    assert v2 in seen


def test_publish_checkpoints_a_leftover_wal_and_cleans_stale_temp_files(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path / "home").ensure()
    con = duckdb.connect(str(home.warehouse))
    con.execute("set checkpoint_threshold = '1GB'")
    con.execute("create schema marts; create table marts.t as select range as i from range(10)")
    # simulate a writer that died without checkpointing: copy the file + WAL aside while still open
    wal = home.warehouse.with_name(home.warehouse.name + ".wal")
    assert wal.exists()
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    shutil.copyfile(home.warehouse, crashed / "suptech.duckdb")
    shutil.copyfile(wal, crashed / "suptech.duckdb.wal")
    con.close()
    shutil.copyfile(crashed / "suptech.duckdb", home.warehouse)
    shutil.copyfile(crashed / "suptech.duckdb.wal", wal)
    (home.published / "suptech.duckdb.tmp-999999").write_bytes(b"half a copy")
    (home.published / "auditor.duckdb.tmp-999999").write_bytes(b"half a copy")
    (home.published / "suptech.duckdb.tmp-999999.wal").write_bytes(b"half a log")
    (home.published / "slots").mkdir()
    (home.published / "slots" / "auditor-a.duckdb.tmp-999999").write_bytes(b"half a copy")

    publish_snapshot(home)
    assert not wal.exists()
    assert sorted(p.name for p in home.published.iterdir()) == ["auditor.duckdb", "slots", "suptech.duckdb"]
    assert sorted(p.name for p in (home.published / "slots").iterdir()) == ["auditor-a.duckdb"]
    reader = connect_reader(home)
    try:
        assert reader.sql("select count(*), sum(i) from marts.t").fetchall() == [(10, 45)]
    finally:
        reader.close()


def _version(home: Home) -> tuple[int, int]:
    con = connect_reader(home)
    try:
        return con.sql(VERSION_SQL).pl().row(0)
    finally:
        con.close()
