"""The one guarded path to the warehouse file, and read-only access to the published snapshot.

DuckDB allows one writer per file and no reader while it writes. Every writing step runs inside
`writer_lock(home)` (an fcntl lock on a separate lock file, so two cycles are serialised, never
interleaved) and opens short-lived connections with `connect_writer`. Readers never open the live
file: they use the snapshots that `publish_snapshot` swaps in atomically after a successful cycle, through
`connect_reader`, which locks the connection down (read-only, no file access, no extensions, no settings).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import duckdb

from pipelines.home import Home
from pipelines.warehouse.schema import create_schema
from pipelines.warehouse.settings import apply as apply_settings
from pipelines.warehouse.settings import resolve as resolve_settings

SNAPSHOT_NAME = "suptech.duckdb"
AUDITOR_SNAPSHOT_NAME = "auditor.duckdb"
SnapshotKind = Literal["analyst", "auditor"]
SNAPSHOT_NAMES: dict[SnapshotKind, str] = {"analyst": SNAPSHOT_NAME, "auditor": AUDITOR_SNAPSHOT_NAME}


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
    """A read-write connection to the live warehouse, closed on exit whatever happens, with DuckDB's
    memory_limit, threads and temp_directory from pipelines/warehouse/settings.py."""
    home.warehouse_dir.mkdir(parents=True, exist_ok=True)
    settings = resolve_settings(home.warehouse)  # memory_limit, threads, temp_directory: settings.py
    settings.temp_directory.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(home.warehouse))
    try:
        apply_settings(con, settings)
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        # one commit per submission: avoid a checkpoint at nearly every commit (measured: -20% intake time)
        con.execute("set checkpoint_threshold = '1GB'")
        create_schema(con)
        yield con
    finally:
        con.close()


def fetch_one(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: Sequence[object] | Mapping[str, object] | None = None,
) -> tuple[Any, ...]:
    """The first row of a query that always returns one (an aggregate, `returning`, a lookup that must
    match); a LookupError if it returns none. For a row that may be missing, use `fetchone()` and test
    for None."""
    row = con.execute(sql, params).fetchone()
    if row is None:
        raise LookupError(f"the query returned no row: {sql}")
    return row


def snapshot_path(home: Home, kind: SnapshotKind = "analyst") -> Path:
    """The published file of `kind`: analyst (pseudonymised, curated) or auditor (filed identifiers, raw rows)."""
    if kind not in SNAPSHOT_NAMES:
        raise ValueError(f"unknown snapshot kind {kind!r}: use one of {', '.join(SNAPSHOT_NAMES)}")
    return home.published / SNAPSHOT_NAMES[kind]


def publish_snapshot(home: Home, as_of: datetime | None = None) -> Path:
    """Build both snapshots from the closed warehouse and swap them in atomically; returns the analyst path.

    Call with the writer lock held and every connection to the live file closed. See
    pipelines/warehouse/publish.py for what each file holds and how it is made crash-safe.
    """
    from pipelines.warehouse.publish import publish

    return publish(home, as_of)["analyst"]


# The lockdown of every reader (docs/security.md): the file is opened read-only, and the connection can
# neither read nor write any other file (no COPY TO, ATTACH, read_csv/read_parquet/glob, EXPORT DATABASE),
# nor install or load extensions, nor change any setting once it is returned.
READER_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "enable_external_access": "false",
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
}


def _open_read_only(path: Path, attempts: int = 20) -> duckdb.DuckDBPyConnection:
    """Open `path` read-only, again if a publication holds the file it resolved to: the auditors' pointer
    names a slot that is never written while it is published, but a reader that resolved the pointer two
    publications ago could meet the slot being brought up to date (pipelines/warehouse/auditor_slots.py)."""
    for attempt in range(attempts):
        try:
            return duckdb.connect(str(path), read_only=True, config=READER_CONFIG)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or attempt == attempts - 1:
                raise
            time.sleep(0.05)
    raise AssertionError("unreachable")


def connect_reader(home: Home, kind: SnapshotKind = "analyst") -> duckdb.DuckDBPyConnection:
    """Locked, read-only connection to a published snapshot (never the live file).

    kind "analyst" (default) opens published/suptech.duckdb (curated, pseudonymised); "auditor" opens
    published/auditor.duckdb (filed identifiers and raw rows). TimeZone and the progress bar are set before
    the configuration is locked (DuckDB 2.0 does not take TimeZone in the connect-time config dict).
    """
    path = snapshot_path(home, kind)
    if not path.exists():
        raise FileNotFoundError(
            f"no published snapshot at {path} ({kind}): run `suptech run` (or `make demo`) to build and publish one"
        )
    con = _open_read_only(path)
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        con.execute("set lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con
