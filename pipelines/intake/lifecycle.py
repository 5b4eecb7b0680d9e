"""Submission lifecycle: statuses, events and supersession (spec/filings.md, Versions and resubmission).

RECEIVED -> MALFORMED | REJECTED | ACCEPTED | ACCEPTED_WITH_WARNINGS, then SUPERSEDED when a newer
version is accepted; DUPLICATE records a re-drop. Every change is an event in intake.submission_events.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime

import duckdb

from pipelines.intake import audit
from pipelines.warehouse.db import fetch_one

RECEIVED = "RECEIVED"
MALFORMED = "MALFORMED"
REJECTED = "REJECTED"
ACCEPTED = "ACCEPTED"
ACCEPTED_WITH_WARNINGS = "ACCEPTED_WITH_WARNINGS"
SUPERSEDED = "SUPERSEDED"
DUPLICATE = "DUPLICATE"
ACKNOWLEDGED = "ACKNOWLEDGED"  # an event only: the submission keeps its status
ACCEPTED_STATUSES = (ACCEPTED, ACCEPTED_WITH_WARNINGS)
FINAL_STATUSES = (MALFORMED, REJECTED)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One explicit transaction: committed if the block completes, rolled back on any exception. After
    the commit, the audit head is anchored outside the warehouse if the block appended audit entries."""
    con.execute("begin transaction")
    audit.after_begin(con)
    try:
        yield
        con.execute("commit")
    except BaseException:
        audit.after_rollback(con)
        con.execute("rollback")
        raise
    __import__("pipelines.faults").faults.checkpoint("audit.anchor")  # committed, not yet anchored
    audit.after_commit(con)


def record_event(
    con: duckdb.DuckDBPyConnection,
    submission_id: str,
    status: str,
    at: datetime,
    reason: str | None = None,
    details: Mapping | None = None,
    *,
    action: str | None = None,
    actor: str = audit.INTAKE_ACTOR,
) -> int:
    """Record a status event and its audit entry (same transaction as the caller's change)."""
    (event_id,) = fetch_one(
        con,
        "insert into intake.submission_events (submission_id, status, event_at, reason, details) "
        "values (?, ?, ?, ?, ?) returning event_id",
        [submission_id, status, at, reason, json.dumps(details, default=str) if details else None],
    )
    audit.append(
        con,
        action or status.lower(),
        submission_id,
        at,
        {"event_id": event_id, "status": status, "reason": reason, **(details or {})},
        actor,
    )
    return event_id


def set_status(
    con: duckdb.DuckDBPyConnection, submission_id: str, status: str, at: datetime, reason: str
) -> None:
    con.execute(
        "update intake.submissions set status = ?, status_reason = ?, status_at = ? where submission_id = ?",
        [status, reason, at, submission_id],
    )
    record_event(con, submission_id, status, at, reason)


def pending_submissions(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Submissions loaded but not yet decided (also those left by an interrupted cycle)."""
    rows = con.execute(
        "select submission_id from intake.submissions where status = ? order by received_at, enterprise_id, period, version",
        [RECEIVED],
    ).fetchall()
    return [r[0] for r in rows]


def decide(
    con: duckdb.DuckDBPyConnection,
    errors: Mapping[str, int],
    warnings: Mapping[str, int],
    at: datetime,
    *,
    backfill: bool = False,
) -> dict[str, str]:
    """Turn stage results into statuses, in version order, and supersede older current versions.

    Decisions are stamped `at`, or on a backfill with each submission's own received_at (the replay
    decides as if at receipt, so "accepted by close" means what it meant at the time).
    """
    decided: dict[str, str] = {}
    order = con.execute(
        "select submission_id, enterprise_id, period, version, received_at from intake.submissions "
        "where submission_id in (select unnest(?)) order by enterprise_id, period, version",
        [list(errors)],
    ).fetchall()
    for sid, ent, period, version, received_at in order:
        when = received_at if backfill else at
        __import__("pipelines.faults").faults.checkpoint("decide")
        with transaction(con):
            decided.update(
                _decide_one(con, sid, ent, period, version, errors.get(sid, 0), warnings.get(sid, 0), when)
            )
            __import__("pipelines.faults").faults.checkpoint("decide.write")  # decided, not committed
    return decided


def _decide_one(
    con: duckdb.DuckDBPyConnection,
    sid: str,
    ent: str,
    period: str,
    version: int,
    n_err: int,
    n_warn: int,
    when: datetime,
) -> dict[str, str]:
    """One submission's decision, the supersession it causes and its version diff (one transaction)."""
    if n_err:
        set_status(con, sid, REJECTED, when, f"{n_err} validity error(s): see the edit report")
        return {sid: REJECTED}
    status = ACCEPTED_WITH_WARNINGS if n_warn else ACCEPTED
    set_status(
        con, sid, status, when, f"{n_warn} warning(s) to acknowledge" if n_warn else "passed all checks"
    )
    decided = {sid: status}
    older = con.execute(
        "select submission_id from intake.submissions where enterprise_id = ? and period = ? "
        "and version < ? and status in (?, ?) order by version",
        [ent, period, version, *ACCEPTED_STATUSES],
    ).fetchall()
    for (old,) in older:
        set_status(con, old, SUPERSEDED, when, f"superseded by {sid}")
        decided[old] = SUPERSEDED
    if older:
        from pipelines.intake import diff  # late: diff imports the quality package

        base = older[-1][0]  # the version that was current until now
        diffs = diff.store(con, base, sid, when)
        audit.append(
            con,
            "version_diff",
            sid,
            when,
            {
                "base": base,
                "rows": {d.filing_type: [d.rows_added, d.rows_removed, d.rows_changed] for d in diffs},
            },
        )
    return decided
