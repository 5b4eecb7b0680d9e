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


def publish_snapshot(home: Home) -> Path:
    """Copy the closed warehouse file to published/ and swap it in atomically (rename)."""
    home.published.mkdir(parents=True, exist_ok=True)
    target = snapshot_path(home)
    tmp = target.with_suffix(f".tmp-{os.getpid()}")
    shutil.copyfile(home.warehouse, tmp)
    os.replace(tmp, target)
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
