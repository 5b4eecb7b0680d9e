"""`suptech doctor`: a healthy home passes; each injected problem is named with what to do."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.cycle import run_cycle
from pipelines.home import Home
from pipelines.intake import audit
from pipelines.warehouse.db import connect_writer, writer_lock
from pipelines.warehouse.doctor import resolve_archive_path
from tests.support import copy_example, drop_examples

CLOCK = datetime(2026, 11, 21, tzinfo=UTC)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Home:
    home = Home.resolve(tmp_path_factory.mktemp("doctor") / "home").ensure()
    drop_examples(home.landing)
    run_cycle(home, as_of=CLOCK, backfill=True, build_marts=False)
    return home


@pytest.fixture
def home(base: Home, tmp_path: Path) -> Home:
    copy = Home.resolve(tmp_path / "home")
    shutil.copytree(base.root, copy.root)
    return copy


def _doctor(home: Home) -> tuple[int, dict[str, dict]]:
    res = CliRunner().invoke(cli, ["doctor", "--home", str(home.root), "--json", "--timeout", "5"])
    body = json.loads(res.stdout)
    assert body["healthy"] == (res.exit_code == 0)
    return res.exit_code, {c["name"]: c for c in body["checks"]}


def _sql(home: Home, *statements: str) -> None:
    con = duckdb.connect(str(home.warehouse))
    try:
        for s in statements:
            con.execute(s)
    finally:
        con.close()


def test_a_healthy_home(home: Home) -> None:
    code, checks = _doctor(home)
    assert code == 0, [c for c in checks.values() if c["status"] == "problem"]
    for name in (
        "python",
        "schema version",
        "raw row counts",
        "orphan raw rows",
        "stuck submissions",
        "audit log",
        "archive folders",
        "analyst snapshot",
        "auditor snapshot",
    ):
        assert checks[name]["status"] == "ok", checks[name]
    assert checks["packages waiting"]["status"] == "ok"


def test_injected_problems_are_named_with_what_to_do(home: Home) -> None:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        (sid, path), *_ = con.execute(
            "select submission_id, archive_path from intake.deliveries order by 1, delivery_n"
        ).fetchall()
        loaded = con.execute(
            "select submission_id from intake.submissions where status like 'ACCEPTED%' order by 1 limit 1"
        ).fetchone()[0]
    finally:
        con.close()
    shutil.rmtree(resolve_archive_path(home, path))
    _sql(
        home,
        f"update intake.submissions set status = 'RECEIVED' where submission_id = '{loaded}'",
        "insert into raw.transactions select * replace ('GHOST-2026-10-v1' as submission_id) "
        "from raw.transactions limit 1",
    )
    with writer_lock(home), connect_writer(home) as con:  # a change after the last publication
        audit.append(con, "note", None, CLOCK, {"why": "test"})
    code, checks = _doctor(home)
    assert code == 1
    archive = checks["archive folders"]
    assert archive["status"] == "problem" and f"{sid} delivery 1" in archive["message"]
    assert "backup" in archive["fix"]
    stuck = checks["stuck submissions"]
    assert stuck["status"] == "problem" and loaded in stuck["message"] and "suptech run" in stuck["fix"]
    orphan = checks["orphan raw rows"]
    assert (
        orphan["status"] == "problem"
        and "GHOST-2026-10-v1 (unknown) transactions: 1 rows" in orphan["message"]
    )
    stale = checks["analyst snapshot"]
    assert stale["status"] == "problem" and stale["message"].startswith("stale")
    assert stale["fix"] == "run `suptech run` to publish the warehouse's current state"
    assert checks["audit log"]["status"] == "ok"  # the chain itself is intact
    assert checks["raw row counts"]["status"] == "ok"  # the ghost is an orphan, not a miscount


def test_deleted_raw_rows_and_a_broken_audit_tail(home: Home) -> None:
    _sql(
        home,
        "delete from raw.transactions where _row = 1",
        "delete from intake.audit_log where seq = (select max(seq) from intake.audit_log)",
    )
    code, checks = _doctor(home)
    assert code == 1
    assert checks["raw row counts"]["status"] == "problem"
    assert "raw rows, manifest" in checks["raw row counts"]["message"]
    assert checks["audit log"]["status"] == "problem" and "missing" in checks["audit log"]["message"]


def test_landing_packages_waiting_and_why(home: Home) -> None:
    waiting = copy_example("PAY0001-2026-10-v1", home.landing / "PAY0001")
    (waiting / "manifest.json").unlink()
    complete = copy_example("P2P0001-2026-10-v1", home.landing / "P2P0001")
    code, checks = _doctor(home)
    assert code == 0
    msg = checks["packages waiting"]["message"]
    assert checks["packages waiting"]["status"] == "info"
    assert "PAY0001/PAY0001-2026-10-v1: no manifest.json yet" in msg
    assert f"P2P0001/{complete.name}: complete, taken in by the next cycle" in msg


def test_a_busy_warehouse_is_waited_for_then_skipped(home: Home) -> None:
    with writer_lock(home):
        res = CliRunner().invoke(cli, ["doctor", "--home", str(home.root), "--json", "--timeout", "0.3"])
    checks = {c["name"]: c for c in json.loads(res.stdout)["checks"]}
    assert res.exit_code == 0 and checks["warehouse"]["status"] == "warning"
    assert "again" in checks["warehouse"]["fix"]


def test_the_plain_text_report_names_each_problem_and_its_fix(home: Home) -> None:
    """What a regulator reads without --json (it raised ValueError before its marks were pairs)."""
    _sql(home, "update intake.submissions set status = 'RECEIVED' where status like 'ACCEPTED%'")
    res = CliRunner().invoke(cli, ["doctor", "--home", str(home.root), "--timeout", "5"])
    assert res.exit_code == 1, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    lines = res.output.splitlines()
    at = next(i for i, line in enumerate(lines) if "stuck submissions:" in line)
    assert lines[at].split()[0] == "PROBLEM", lines[at]
    fix = next(line for line in lines[at:] if "→" in line)  # the message may wrap
    assert "suptech run" in fix, lines[at:]
    assert any("audit log:" in line for line in lines) and any("python:" in line for line in lines)
