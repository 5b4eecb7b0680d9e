"""The audit chain's tail is tamper-evident: the head is anchored in <home>/audit/head.log at each commit,
and `audit verify` (live log by default) catches deleted or rewritten newest entries."""

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
from pipelines.intake import audit
from pipelines.intake.service import take_in
from pipelines.warehouse.db import connect_writer, publish_snapshot, writer_lock
from tests.support import drop_examples, drop_package, example_packages

CLOCK = datetime(2026, 11, 21, tzinfo=UTC)
DELETE_LAST_WITH_EVENT = (
    "delete from intake.submission_events where event_id = "
    "(select cast(json_extract(detail, '$.event_id') as bigint) from intake.audit_log where seq = 7)",
    "delete from intake.audit_log where seq = 7",
)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Home:
    home = Home.resolve(tmp_path_factory.mktemp("tail") / "home").ensure()
    drop_examples(home.landing)
    with writer_lock(home), connect_writer(home) as con:
        take_in(con, home, clock=CLOCK, backfill=True)
    drop_package(example_packages()[0], home.landing)  # entry 7: a duplicate re-drop, with its event
    with writer_lock(home), connect_writer(home) as con:
        take_in(con, home, clock=CLOCK, backfill=True)
    return home


@pytest.fixture
def home(base: Home, tmp_path: Path) -> Home:
    """A private copy of the home, not published (so only the anchors can tell)."""
    copy = Home.resolve(tmp_path / "home")
    shutil.copytree(base.root, copy.root)
    return copy


def _published(base: Home, tmp_path: Path) -> Home:
    """A private copy of the home, published: entry 8 is the publication, recorded in the snapshot."""
    copy = Home.resolve(tmp_path / "published-home")
    shutil.copytree(base.root, copy.root)
    with writer_lock(copy):
        publish_snapshot(copy)
    return copy


def _verify(home: Home, *args: str) -> tuple[int, dict]:
    res = CliRunner().invoke(cli, ["audit", "verify", "--home", str(home.root), "--json", *args])
    return res.exit_code, json.loads(res.stdout) if res.stdout.strip().startswith("{") else {
        "output": res.output
    }


def _sql(home: Home, *statements: str) -> None:
    con = duckdb.connect(str(home.warehouse))
    try:
        for s in statements:
            con.execute(s)
    finally:
        con.close()


def test_every_commit_is_anchored(home: Home) -> None:
    anchors, problems = audit.read_anchors(audit.anchor_file(home.root))
    assert problems == []
    assert [a.seq for a in anchors] == [3, 6, 7]  # one per committed intake transaction
    assert (audit.anchor_file(home.root).parent.stat().st_mode & 0o777) == 0o700
    code, body = _verify(home)
    assert code == 0 and body["intact"] and body["notes"] == [] and body["last_anchor"]["seq"] == 7


def test_deleted_last_entry_and_its_event_is_caught(home: Home) -> None:
    _sql(home, *DELETE_LAST_WITH_EVENT)
    code, body = _verify(home)
    assert code == 1
    assert body["first_break"]["seq"] == 7
    assert "entries 7..7 are missing" in body["first_break"]["problem"]


def test_deleted_tail_entry_without_event_is_caught(home: Home) -> None:
    # an entry appended outside any transaction (autocommit) is anchored too
    with writer_lock(home), connect_writer(home) as con:
        seq = audit.append(con, "published", None, CLOCK, {"snapshot": "published/suptech.duckdb"})
    assert seq == 8 and audit.read_anchors(audit.anchor_file(home.root))[0][-1].seq == 8
    _sql(home, "delete from intake.audit_log where seq = 8")
    code, body = _verify(home)
    assert code == 1 and "entries 8..8 are missing" in body["first_break"]["problem"]


def test_rewritten_last_entry_with_recomputed_hash_is_caught(home: Home) -> None:
    con = duckdb.connect(str(home.warehouse))
    try:
        seq, at, action, sid, _actor, detail, prev = con.execute(
            'select seq, "at", action, submission_id, actor, detail, prev_hash from intake.audit_log where seq = 7'
        ).fetchone()
        forged = audit.entry_hash(seq, at, action, sid, "mallory", detail, prev)
        con.execute("update intake.audit_log set actor = 'mallory', hash = ? where seq = 7", [forged])
    finally:
        con.close()
    code, body = _verify(home)
    assert code == 1
    assert body["first_break"]["seq"] == 7 and "was rewritten" in body["first_break"]["problem"]


def test_truncated_anchor_file_is_caught_against_the_published_head(base: Home, tmp_path: Path) -> None:
    """head.log cut back below what the published snapshot already holds (with the tail deleted too)."""
    home = _published(base, tmp_path)
    path = audit.anchor_file(home.root)
    assert [a.seq for a in audit.read_anchors(path)[0]] == [3, 6, 7, 8]
    intact = home.root.parent / "intact.duckdb"
    shutil.copyfile(home.warehouse, intact)
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:2]))  # anchors 3 and 6
    _sql(home, "delete from intake.audit_log where seq = 8")  # the publication entry: no event
    code, body = _verify(home)
    assert code == 1 and "published snapshot holds entries up to seq 8" in body["first_break"]["problem"]
    # the warehouse intact again: head.log alone is still short of the published head
    shutil.copyfile(intact, home.warehouse)
    code, body = _verify(home)
    assert code == 1 and "anchor file was truncated" in body["first_break"]["problem"]


def test_deleted_anchor_file_is_caught(home: Home) -> None:
    audit.anchor_file(home.root).unlink()
    code, body = _verify(home)
    assert code == 1 and "anchor file" in body["first_break"]["problem"]


def test_verify_reads_the_live_log_by_default(base: Home, tmp_path: Path) -> None:
    home = _published(base, tmp_path)
    _sql(home, "update intake.audit_log set actor = 'mallory' where seq = 2")
    code, body = _verify(home)
    assert code == 1 and body["source"] == str(home.warehouse) and body["first_break"]["seq"] == 2
    code, body = _verify(home, "--snapshot")  # the published copy was made before the edit
    assert code == 0 and body["source"] == "published snapshot"


def test_entries_after_the_last_anchor_are_a_note_until_the_next_anchor(home: Home) -> None:
    """A process killed between its commit and the anchor write: allowed, reported, then covered."""
    with writer_lock(home), connect_writer(home) as con:
        audit.set_anchor(con, None)  # as if the anchor write never happened
        audit.append(con, "note", None, CLOCK, {"n": 1})
    code, body = _verify(home)
    assert code == 0 and body["notes"] == [
        "1 entries after the last anchor (seq 7): committed, not yet anchored (a process stopped between its "
        "commit and the anchor write); the next commit anchors them"
    ]
    with writer_lock(home), connect_writer(home) as con:
        audit.append(con, "note", None, CLOCK, {"n": 2})
    code, body = _verify(home)
    assert code == 0 and body["notes"] == [] and body["last_anchor"]["seq"] == 9


def test_verify_while_a_cycle_holds_the_warehouse(home: Home) -> None:
    with writer_lock(home):
        res = CliRunner().invoke(cli, ["audit", "verify", "--home", str(home.root), "--timeout", "0.3"])
    assert res.exit_code == 1 and "a cycle is running" in res.output and "--snapshot" in res.output


def test_an_acknowledgement_is_chained_and_anchored(home: Home, monkeypatch) -> None:
    from dataclasses import replace

    from pipelines.intake import acknowledge as ack_module
    from pipelines.quality.catalog import load_catalog

    catalog = dict(load_catalog())
    catalog["Q990"] = replace(catalog["V001"], rule_id="Q990", stage="Q", severity="warning", title="test")
    monkeypatch.setattr(ack_module, "load_catalog", lambda: catalog)
    sid = "PAY0001-2026-10-v1"
    with writer_lock(home), connect_writer(home) as con:
        con.execute(
            "insert into quality.findings (submission_id, rule_id, stage, severity, message, found_at) "
            "values (?, 'Q990', 'Q', 'warning', 'round amounts', ?)",
            [sid, CLOCK],
        )
        ack_module.acknowledge(con, sid, "Q990", "seasonal", "filer", CLOCK)
        seq, action, actor = con.execute(
            "select seq, action, actor from intake.audit_log order by seq desc limit 1"
        ).fetchone()
        head = audit.head(con)
    assert (action, actor) == ("acknowledged", "filer")
    last = audit.read_anchors(audit.anchor_file(home.root))[0][-1]
    assert (last.seq, last.hash) == head and seq == head[0]
    code, body = _verify(home)
    assert code == 0 and body["notes"] == []


def test_sigkill_between_commit_and_anchor(home: Home) -> None:
    """The process dies after its commit, before the anchor write: the chain is ahead of head.log, which
    verify reports as a note (intact), and the next commit's anchor covers it."""
    import os
    import subprocess
    import sys

    child = (
        "from datetime import UTC, datetime\n"
        "from pipelines.home import Home\n"
        "from pipelines.intake import audit, lifecycle\n"
        "from pipelines.warehouse.db import connect_writer, writer_lock\n"
        f"home = Home.resolve({str(home.root)!r})\n"
        "with writer_lock(home), connect_writer(home) as con:\n"
        "    with lifecycle.transaction(con):\n"
        "        audit.append(con, 'note', None, datetime(2026, 11, 21, tzinfo=UTC), {'n': 1})\n"
    )
    env = {**os.environ, "SUPTECH_FAULT_AT": "audit.anchor:1"}
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", child], env=env, cwd=root, capture_output=True)
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    code, body = _verify(home)
    assert code == 0 and body["head"]["seq"] == 8 and body["last_anchor"]["seq"] == 7
    assert body["notes"][0].startswith("1 entries after the last anchor (seq 7)")
    with writer_lock(home), connect_writer(home) as con:
        audit.append(con, "note", None, CLOCK, {"n": 2})
    code, body = _verify(home)
    assert code == 0 and body["notes"] == [] and body["last_anchor"]["seq"] == 9
