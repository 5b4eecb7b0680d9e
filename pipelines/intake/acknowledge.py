"""Acknowledging a warning: the filer states why a warning rule's findings on a submission are right.

Allowed only for a rule of warning severity that has (non-shadow) findings on that submission, once
per submission and rule. Stored in intake.acknowledgements, with an ACKNOWLEDGED event and its audit
entry, in one transaction. The submission's status does not change.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from pipelines.intake import lifecycle
from pipelines.quality.catalog import load_catalog
from pipelines.warehouse.db import fetch_one


class AcknowledgeError(ValueError):
    """A request that cannot be recorded; the message says why and what to do."""


def acknowledge(
    con: duckdb.DuckDBPyConnection, submission_id: str, rule_id: str, reason: str, by: str, at: datetime
) -> int:
    """Record the acknowledgement; returns how many findings it covers."""
    reason = reason.strip()
    if not reason:
        raise AcknowledgeError("the reason is empty: say why the warning is correct (--reason TEXT)")
    if not by.strip():
        raise AcknowledgeError("name who acknowledges (--by NAME)")
    if (
        con.execute("select 1 from intake.submissions where submission_id = ?", [submission_id]).fetchone()
        is None
    ):
        raise AcknowledgeError(f"unknown submission {submission_id}")
    rule = load_catalog().get(rule_id)
    if rule is None:
        raise AcknowledgeError(f"unknown rule {rule_id}: see docs/rules.md for the rule ids")
    if rule.severity != "warning":
        raise AcknowledgeError(
            f"{rule_id} is an error, not a warning: errors cannot be acknowledged, correct the data and resubmit"
        )
    (n,) = fetch_one(
        con,
        "select count(*) from quality.findings where submission_id = ? and rule_id = ? and not shadow",
        [submission_id, rule_id],
    )
    if n == 0:
        raise AcknowledgeError(
            f"{submission_id} has no finding of {rule_id}: there is nothing to acknowledge"
        )
    prior = con.execute(
        "select acknowledged_by, acknowledged_at from intake.acknowledgements where submission_id = ? and rule_id = ?",
        [submission_id, rule_id],
    ).fetchone()
    if prior is not None:
        raise AcknowledgeError(
            f"{rule_id} on {submission_id} was already acknowledged by {prior[0]} at {prior[1]}"
        )
    with lifecycle.transaction(con):
        con.execute(
            "insert into intake.acknowledgements values (?, ?, ?, ?, ?)",
            [submission_id, rule_id, reason, by, at],
        )
        lifecycle.record_event(
            con,
            submission_id,
            lifecycle.ACKNOWLEDGED,
            at,
            f"{rule_id} acknowledged by {by}: {reason}",
            {"rule_id": rule_id, "findings": n},
            actor=by,
        )
    return n
