"""A load killed mid-way (SIGKILL) leaves no partial submission: the next intake takes it in whole."""

from __future__ import annotations

import json
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
    _killed_at(home, marker, env)  # PAY's first file is in raw.*, uncommitted

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


def _killed_at(home: Home, marker: Path, env: dict[str, str]) -> None:
    """Run the intake in a child process and SIGKILL it once it reaches the pause named in env."""
    proc = subprocess.Popen([sys.executable, "-c", INTAKE, str(home.root)], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, "the intake ended before reaching the pause"
            assert time.monotonic() < deadline, "the intake never reached the pause"
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_sigkill_after_commit_finishes_the_archive_without_a_duplicate(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path / "home").ensure()
    pkg = {p.name: p for p in example_packages()}[PAY]
    delivered = {p.relative_to(pkg): p.read_bytes() for p in sorted(pkg.rglob("*")) if p.is_file()}
    drop_package(pkg, home.landing, mtime=datetime(2026, 11, 6, tzinfo=UTC))
    marker = tmp_path / "paused"
    env = {
        **os.environ,
        "SUPTECH_INTAKE_PAUSE_SID": PAY,
        "SUPTECH_INTAKE_PAUSE_AT": "committed",
        "SUPTECH_INTAKE_PAUSE_MARKER": str(marker),
    }
    _killed_at(home, marker, env)
    archive = home.archive / "PAY0001" / PAY / "1"
    # committed, but the package is still in landing and the archive was never written
    assert (home.landing / "PAY0001" / PAY / "manifest.json").exists()
    assert not archive.exists()

    with writer_lock(home, timeout_s=5), connect_writer(home) as con:
        (outcome,) = take_in(con, home, clock=CLOCK, backfill=True)
        deliveries = con.execute(
            "select delivery_n, outcome, archive_path from intake.deliveries where submission_id = ?", [PAY]
        ).fetchall()
        events = con.execute(
            "select status from intake.submission_events where submission_id = ? order by event_id", [PAY]
        ).fetchall()
        actions = con.execute("select action from intake.audit_log order by seq").fetchall()
        last = con.execute('select "at", detail from intake.audit_log order by seq desc limit 1').fetchone()
        rows = con.execute("select count(*) from raw.transactions").fetchone()[0]
        intact = verify(con).intact
    assert (outcome.submission_id, outcome.status, outcome.archive_path) == (PAY, "RECEIVED", archive)
    assert outcome.reason == "archive of delivery 1 completed after an interrupted intake"
    stored = f"archive/PAY0001/{PAY}/1"  # relative to the home: a moved or restored home still works
    assert deliveries == [(1, "RECEIVED", stored)]  # one delivery: no duplicate recorded
    assert events == [("RECEIVED",)]  # no DUPLICATE event
    assert [a for (a,) in actions] == ["received", "verified", "loaded", "archive_recovered"]
    assert last[0] == CLOCK
    assert json.loads(last[1]) == {"archive_path": stored, "delivery_n": 1, "outcome": "RECEIVED"}
    assert rows == 9 and intact
    assert not (home.landing / "PAY0001" / PAY).exists()
    archived = {p.relative_to(archive): p.read_bytes() for p in sorted(archive.rglob("*")) if p.is_file()}
    assert archived == delivered  # every byte, unchanged

    # the recovery is done once: the next run has nothing left to do
    with writer_lock(home, timeout_s=5), connect_writer(home) as con:
        assert take_in(con, home, clock=CLOCK, backfill=True) == []
