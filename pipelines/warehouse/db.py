"""The one guarded path to the warehouse file, and read-only access to the published snapshot.

DuckDB allows one writer per file and no reader while it writes. Every writing step runs inside
`writer_lock(home)` (an fcntl lock on a separate lock file, so two cycles are serialised, never
interleaved) and opens short-lived connections with `connect_writer`. Readers never open the live
file: they use the snapshot that `publish_snapshot` swaps in atomically after a successful cycle.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipelines.home import Home
from pipelines.warehouse.schema import create_schema

SNAPSHOT_NAME = "suptech.duckdb"


class WarehouseBusy(RuntimeError):
    pass


@contextmanager
def writer_lock(home: Home, timeout_s: float | None = None) -> Iterator[None]:
    """Hold the single-writer lock; waits for a running cycle unless timeout_s runs out."""
    home.warehouse_dir.mkdir(parents=True, exist_ok=True)
    fh = open(home.warehouse_dir / "writer.lock", "a+")
    start = time.monotonic()
    try:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if timeout_s is not None and time.monotonic() - start > timeout_s:
                    raise WarehouseBusy(
                        f"another cycle holds the warehouse ({home.warehouse_dir / 'writer.lock'}); try again later"
                    ) from None
                time.sleep(0.2)
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


@contextmanager
def connect_writer(home: Home) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the live warehouse, closed on exit whatever happens."""
    home.warehouse_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(home.warehouse))
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        # one commit per submission: avoid a checkpoint at nearly every commit (measured: -20% intake time)
        con.execute("set checkpoint_threshold = '1GB'")
        create_schema(con)
        yield con
    finally:
        con.close()


def snapshot_path(home: Home) -> Path:
    return home.published / SNAPSHOT_NAME


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_snapshot(home: Home) -> Path:
    """Copy the closed warehouse file to published/ and swap it in atomically (rename).

    Call with the writer lock held and every connection to the live file closed. Readers open the
    snapshot read-only (DuckDB then writes no WAL and takes only a shared lock), so a reader that has the
    old file open keeps reading the old inode after the rename, and the next open gets the new file whole:
    there is no moment at which the path is missing or half written. A WAL left beside the live file (a
    writer that did not checkpoint) is checkpointed first, else the copy would lack its transactions.
    """
    home.published.mkdir(parents=True, exist_ok=True)
    target = snapshot_path(home)
    wal = home.warehouse.with_name(home.warehouse.name + ".wal")
    if wal.exists():
        con = duckdb.connect(str(home.warehouse))
        try:
            con.execute("checkpoint")
        finally:
            con.close()
    for stale in home.published.glob(f"{SNAPSHOT_NAME}.tmp-*"):  # left by a publish that was killed
        stale.unlink(missing_ok=True)
    tmp = target.with_name(f"{SNAPSHOT_NAME}.tmp-{os.getpid()}")
    shutil.copyfile(home.warehouse, tmp)
    _fsync(tmp)
    os.replace(tmp, target)
    _fsync(home.published)  # the rename itself survives a crash
    return target


def connect_reader(home: Home) -> duckdb.DuckDBPyConnection:
    """Read-only connection to the published snapshot (never the live file)."""
    path = snapshot_path(home)
    if not path.exists():
        raise FileNotFoundError(
            f"no published snapshot at {path}: run `suptech run` (or `make demo`) to build and publish one"
        )
    con = duckdb.connect(str(path), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")
    return con
