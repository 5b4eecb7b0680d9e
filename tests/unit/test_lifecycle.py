"""Lifecycle decisions: statuses in version order, supersession, final statuses never superseded."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from pipelines.intake import lifecycle
from pipelines.warehouse.schema import create_schema

AT = datetime(2026, 11, 12, tzinfo=UTC)


def _submission(con, sid: str, version: int, status: str) -> None:
    con.execute(
        "insert into intake.submissions (submission_id, enterprise_id, period, version, received_at, status, status_at) "
        "values (?, 'PAY0007', '2026-10', ?, ?, ?, ?)",
        [sid, version, AT, status, AT],
    )


def _statuses(con) -> dict[str, str]:
    return dict(con.execute("select submission_id, status from intake.submissions").fetchall())


def test_newer_accepted_version_supersedes_and_rejected_stays_final() -> None:
    con = duckdb.connect()
    create_schema(con)
    _submission(con, "PAY0007-2026-10-v1", 1, "ACCEPTED")
    _submission(con, "PAY0007-2026-10-v2", 2, "RECEIVED")
    _submission(con, "PAY0007-2026-10-v3", 3, "RECEIVED")
    assert lifecycle.pending_submissions(con) == ["PAY0007-2026-10-v2", "PAY0007-2026-10-v3"]
    decided = lifecycle.decide(con, {"PAY0007-2026-10-v2": 0, "PAY0007-2026-10-v3": 4}, {}, AT)
    assert decided == {
        "PAY0007-2026-10-v2": "ACCEPTED",
        "PAY0007-2026-10-v1": "SUPERSEDED",
        "PAY0007-2026-10-v3": "REJECTED",
    }
    assert _statuses(con) == decided
    events = con.execute(
        "select submission_id, status, reason from intake.submission_events order by event_id"
    ).fetchall()
    assert events == [
        ("PAY0007-2026-10-v2", "ACCEPTED", "passed all checks"),
        ("PAY0007-2026-10-v1", "SUPERSEDED", "superseded by PAY0007-2026-10-v2"),
        ("PAY0007-2026-10-v3", "REJECTED", "4 validity error(s): see the edit report"),
    ]


def test_warnings_accept_with_warnings_and_supersede() -> None:
    con = duckdb.connect()
    create_schema(con)
    _submission(con, "PAY0007-2026-10-v1", 1, "ACCEPTED_WITH_WARNINGS")
    _submission(con, "PAY0007-2026-10-v4", 4, "RECEIVED")
    decided = lifecycle.decide(con, {"PAY0007-2026-10-v4": 0}, {"PAY0007-2026-10-v4": 2}, AT)
    assert decided == {"PAY0007-2026-10-v4": "ACCEPTED_WITH_WARNINGS", "PAY0007-2026-10-v1": "SUPERSEDED"}
