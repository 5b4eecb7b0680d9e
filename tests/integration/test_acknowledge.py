"""`suptech acknowledge`: each refusal path, and a recorded acknowledgement with its event and audit entry."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import duckdb
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.home import Home
from pipelines.intake import acknowledge as ack_module
from pipelines.intake import lifecycle
from pipelines.intake.audit import verify
from pipelines.intake.service import take_in
from pipelines.quality.catalog import load_catalog
from pipelines.warehouse.db import connect_writer, snapshot_path, writer_lock
from tests.support import drop_examples

CLOCK = datetime(2026, 11, 21, tzinfo=UTC)
PAY, P2P = "PAY0001-2026-10-v1", "P2P0001-2026-10-v1"
WARN = "Q990"  # a warning rule for this test only (the live catalog may have none yet)


@pytest.fixture(autouse=True)
def warning_rule(monkeypatch) -> None:
    catalog = dict(load_catalog())
    catalog[WARN] = replace(
        catalog["V001"], rule_id=WARN, stage="Q", severity="warning", title="test warning"
    )
    monkeypatch.setattr(ack_module, "load_catalog", lambda: catalog)


@pytest.fixture
def home(tmp_path) -> Home:
    home = Home.resolve(tmp_path / "home").ensure()
    drop_examples(home.landing)
    with writer_lock(home), connect_writer(home) as con:
        take_in(con, home, clock=CLOCK, backfill=True)
        con.execute(
            "insert into quality.findings (submission_id, rule_id, stage, severity, message, found_at) "
            "values (?, ?, 'Q', 'warning', 'round amounts', ?), (?, ?, 'Q', 'warning', 'round amounts', ?)",
            [PAY, WARN, CLOCK, PAY, WARN, CLOCK],
        )
        lifecycle.decide(con, {PAY: 0, P2P: 0}, {PAY: 2}, CLOCK)
    return home


def _ack(home: Home, *args: str):
    return CliRunner().invoke(
        cli, ["acknowledge", "--home", str(home.root), "--as-of", "2026-11-22T08:00:00Z", *args]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["NOPE-2026-10-v1", WARN, "--reason", "x"], "unknown submission NOPE-2026-10-v1"),
        ([PAY, "Q000", "--reason", "x"], "unknown rule Q000"),
        ([PAY, "V001", "--reason", "x"], "V001 is an error, not a warning"),
        ([P2P, WARN, "--reason", "x"], f"{P2P} has no finding of {WARN}"),
        ([PAY, WARN, "--reason", "   "], "the reason is empty"),
    ],
)
def test_refusals(home: Home, args: list[str], message: str) -> None:
    res = _ack(home, *args, "--by", "Li Wei")
    assert res.exit_code == 1
    assert message in " ".join(res.output.split())
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from intake.acknowledgements").fetchone() == (0,)
    finally:
        con.close()


def test_acknowledgement_is_stored_with_event_and_audit(home: Home) -> None:
    res = _ack(home, PAY, WARN, "--reason", "campaign month: round top-ups are real", "--by", "Li Wei")
    assert res.exit_code == 0, res.output
    assert "2 finding(s)" in res.output
    # readers see it: the snapshot was republished
    con = duckdb.connect(str(snapshot_path(home)), read_only=True)
    try:
        assert con.execute("select * from intake.acknowledgements").fetchall() == [
            (
                PAY,
                WARN,
                "campaign month: round top-ups are real",
                "Li Wei",
                datetime(2026, 11, 22, 8, tzinfo=UTC),
            )
        ]
        assert con.execute(
            "select status, reason from intake.submission_events where submission_id = ? order by event_id desc limit 1",
            [PAY],
        ).fetchone() == (
            "ACKNOWLEDGED",
            f"{WARN} acknowledged by Li Wei: campaign month: round top-ups are real",
        )
        assert con.execute(
            "select status from intake.submissions where submission_id = ?", [PAY]
        ).fetchone() == ("ACCEPTED_WITH_WARNINGS",)
        assert con.execute(
            "select action, actor from intake.audit_log where action <> 'published' order by seq desc limit 1"
        ).fetchone() == ("acknowledged", "Li Wei")  # publishing after it appends its own 'published' entry
        assert verify(con).intact
    finally:
        con.close()
    again = _ack(home, PAY, WARN, "--reason", "again", "--by", "Wang Fang")
    assert again.exit_code == 1 and "already acknowledged by Li Wei" in again.output
