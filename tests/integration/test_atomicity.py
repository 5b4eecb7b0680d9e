"""A load killed mid-way (SIGKILL) leaves no partial submission: the next intake takes it in whole."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.home import Home
from pipelines.intake.audit import verify
from pipelines.intake.service import take_in
from pipelines.warehouse.db import connect_writer, writer_lock
from tests.support import drop_package, example_packages

CLOCK = datetime(2026, 11, 21, tzinfo=UTC)
PAY, P2P = "PAY0001-2026-10-v1", "P2P0001-2026-10-v1"
ROOT = Path(__file__).resolve().parents[2]

INTAKE = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from pipelines.home import Home
    from pipelines.intake.service import take_in
    from pipelines.warehouse.db import connect_writer, writer_lock
    home = Home.resolve(sys.argv[1])
    with writer_lock(home), connect_writer(home) as con:
        take_in(con, home, clock=datetime(2026, 11, 21, tzinfo=UTC), backfill=True)
    """
)


def test_sigkill_mid_load_leaves_no_partial_rows(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path / "home").ensure()
    pkgs = {p.name: p for p in example_packages()}
    drop_package(pkgs[P2P], home.landing, mtime=datetime(2026, 11, 5, tzinfo=UTC))  # taken in first
    drop_package(pkgs[PAY], home.landing, mtime=datetime(2026, 11, 6, tzinfo=UTC))
    marker = tmp_path / "paused"
    env = {**os.environ, "SUPTECH_INTAKE_PAUSE_SID": PAY, "SUPTECH_INTAKE_PAUSE_MARKER": str(marker)}
    proc = subprocess.Popen([sys.executable, "-c", INTAKE, str(home.root)], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, "the intake ended before reaching the pause"
            assert time.monotonic() < deadline, "the intake never reached the pause"
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)  # PAY's first file is in raw.*, uncommitted
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()

    def state() -> tuple:
        con = duckdb.connect(str(home.warehouse), read_only=True)
        try:
            return (
                con.execute("select submission_id, status from intake.submissions order by 1").fetchall(),
                con.execute(
                    "select submission_id, count(*) from raw.enterprise_profile group by 1"
                ).fetchall(),
                con.execute(
                    "select submission_id, count(*) from raw.transactions group by 1 order by 1"
                ).fetchall(),
                verify(con).intact,
            )
        finally:
            con.close()

    # the committed submission survives; nothing of the killed one, whose package is still waiting
    assert state() == ([(P2P, "RECEIVED")], [(P2P, 1)], [(P2P, 14)], True)
    assert (home.landing / "PAY0001" / PAY / "manifest.json").exists()
    with writer_lock(home, timeout_s=5), connect_writer(home) as con:
        (outcome,) = take_in(con, home, clock=CLOCK, backfill=True)
    assert (outcome.submission_id, outcome.status) == (PAY, "RECEIVED")
    assert state() == (
        [(P2P, "RECEIVED"), (PAY, "RECEIVED")],
        [(P2P, 1), (PAY, 1)],
        [(P2P, 14), (PAY, 9)],
        True,
    )
