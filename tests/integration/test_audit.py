"""Audit log: every intake action is chained; tampering and deletion are caught by `audit verify`."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.home import Home
from pipelines.intake.audit import verify
from pipelines.intake.service import take_in
from pipelines.warehouse.db import connect_writer, publish_snapshot, snapshot_path, writer_lock
from tests.support import drop_examples, drop_package, example_packages

CLOCK = datetime(2026, 11, 21, tzinfo=UTC)


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Home:
    home = Home.resolve(tmp_path_factory.mktemp("audit") / "home").ensure()
    drop_examples(home.landing)
    with writer_lock(home), connect_writer(home) as con:
        take_in(con, home, clock=CLOCK, backfill=True)
    # the same bytes again: a recorded no-op
    drop_package(example_packages()[0], home.landing)
    with writer_lock(home), connect_writer(home) as con:
        take_in(con, home, clock=CLOCK, backfill=True)
    publish_snapshot(home)
    return home


def _copy(home: Home, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    target = tmp_path / "copy.duckdb"
    shutil.copyfile(snapshot_path(home), target)
    return duckdb.connect(str(target))


def test_every_intake_action_is_chained(home: Home) -> None:
    con = duckdb.connect(str(snapshot_path(home)), read_only=True)
    try:
        actions = con.execute(
            "select seq, action, submission_id from intake.audit_log order by seq"
        ).fetchall()
        result = verify(con)
    finally:
        con.close()
    # two packages: received, verified, loaded each; then one duplicate re-drop; then the publication
    assert [a for _, a, _ in actions] == ["received", "verified", "loaded"] * 2 + [
        "duplicate_redrop",
        "published",
    ]
    assert [s for s, _, _ in actions] == list(range(1, 9))
    assert result.intact and result.entries == 8


def test_cli_verify_intact(home: Home) -> None:
    res = CliRunner().invoke(cli, ["audit", "verify", "--home", str(home.root), "--snapshot", "--json"])
    assert res.exit_code == 0, res.output
    body = json.loads(res.output)
    assert {k: body[k] for k in ("source", "entries", "intact", "first_break", "notes")} == {
        "source": "published snapshot",
        "entries": 8,
        "intact": True,
        "first_break": None,
        "notes": [],
    }
    assert body["head"]["seq"] == 8 and body["last_anchor"]["seq"] == 8


def test_tampered_detail_names_the_entry(home: Home, tmp_path: Path) -> None:
    con = _copy(home, tmp_path)
    try:
        con.execute("""update intake.audit_log set detail = '{"rows": {"transactions": 8}}' where seq = 3""")
        brk = verify(con).first_break
    finally:
        con.close()
    assert brk is not None and brk.seq == 3 and brk.problem.startswith("content changed")


def test_deleted_entry_is_caught(home: Home, tmp_path: Path) -> None:
    con = _copy(home, tmp_path)
    try:
        con.execute("delete from intake.audit_log where seq = 4")
        brk = verify(con).first_break
        assert brk is not None and brk.seq == 5 and "entry 4 is missing" in brk.problem
    finally:
        con.close()


def test_deleted_tail_event_is_caught(home: Home, tmp_path: Path) -> None:
    con = _copy(home, tmp_path)
    try:
        # the duplicate re-drop's entry and the publication after it: the event has no entry left
        con.execute("delete from intake.audit_log where seq >= 7")
        brk = verify(con).first_break
    finally:
        con.close()
    assert brk is not None and brk.seq is None and "has no audit entry" in brk.problem


def test_cli_verify_broken_snapshot(home: Home, tmp_path: Path) -> None:
    other = Home.resolve(tmp_path / "other").ensure()
    other.published.mkdir(parents=True, exist_ok=True)
    con = _copy(home, tmp_path)
    try:
        con.execute("update intake.audit_log set actor = 'mallory' where seq = 2")
    finally:
        con.close()
    shutil.copyfile(tmp_path / "copy.duckdb", snapshot_path(other))
    res = CliRunner().invoke(cli, ["audit", "verify", "--home", str(other.root), "--snapshot"])
    assert res.exit_code == 1
    assert "entry 2" in res.output


def test_identical_redrop_is_a_recorded_noop(home: Home) -> None:
    sid = example_packages()[0].name
    con = duckdb.connect(str(snapshot_path(home, "auditor")), read_only=True)  # raw rows: auditors only
    try:
        events = con.execute(
            "select status, reason from intake.submission_events where submission_id = ? order by event_id",
            [sid],
        ).fetchall()
        sub = con.execute(
            "select status, status_reason from intake.submissions where submission_id = ?", [sid]
        ).fetchall()
        deliveries = con.execute(
            "select delivery_n, outcome from intake.deliveries where submission_id = ? order by 1", [sid]
        ).fetchall()
        raw = con.execute("select count(*) from raw.transactions where submission_id = ?", [sid]).fetchone()
        findings = con.execute("select count(*) from quality.findings").fetchone()
    finally:
        con.close()
    assert events == [
        ("RECEIVED", "package complete"),
        ("DUPLICATE", f"identical re-drop of {sid} (delivery 2): nothing changed"),
    ]
    assert deliveries == [(1, "RECEIVED"), (2, "DUPLICATE")]
    assert sub == [("RECEIVED", "verified; awaiting validity checks")]
    assert raw == (14,) and findings == (0,)  # the P2P example's 14 transaction rows, loaded once
    assert (home.archive / "P2P0001" / sid / "2" / "manifest.json").exists()


def test_cli_verify_live_warehouse_under_the_writer_lock(home: Home) -> None:
    res = CliRunner().invoke(cli, ["audit", "verify", "--home", str(home.root), "--json"])
    assert res.exit_code == 0, res.output
    body = json.loads(res.output)
    assert (body["source"], body["entries"], body["intact"]) == (str(home.warehouse), 8, True)
