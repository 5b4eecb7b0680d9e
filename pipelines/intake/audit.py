"""The hash-chained audit log of intake actions (intake.audit_log).

Each entry's hash is sha256 over a canonical JSON of (seq, at, action, submission_id, actor, detail,
prev_hash); prev_hash is the previous entry's hash ("" for the first). Entries are appended with the
caller's connection, so inside the transaction of the change they record. `verify` recomputes the
chain and names the first entry that does not match.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

GENESIS = ""
INTAKE_ACTOR = "intake"


def _canonical_detail(detail: Mapping | str | None) -> object:
    if detail is None:
        return None
    parsed = json.loads(detail) if isinstance(detail, str) else detail
    # one normal form whatever the source (a dict, or JSON text read back from the table)
    return json.loads(json.dumps(parsed, default=str, sort_keys=True))


def entry_hash(
    seq: int,
    at: datetime,
    action: str,
    submission_id: str | None,
    actor: str,
    detail: Mapping | str | None,
    prev_hash: str,
) -> str:
    payload = [
        seq,
        at.astimezone(UTC).isoformat(timespec="microseconds"),
        action,
        submission_id,
        actor,
        _canonical_detail(detail),
        prev_hash,
    ]
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def append(
    con: duckdb.DuckDBPyConnection,
    action: str,
    submission_id: str | None,
    at: datetime,
    detail: Mapping | None = None,
    actor: str = INTAKE_ACTOR,
) -> int:
    """Append one entry after the last one; returns its seq."""
    last = con.execute("select seq, hash from intake.audit_log order by seq desc limit 1").fetchone()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    canonical = _canonical_detail(detail)
    digest = entry_hash(seq, at, action, submission_id, actor, canonical, prev)
    con.execute(
        "insert into intake.audit_log values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            seq,
            at,
            action,
            submission_id,
            actor,
            None if canonical is None else json.dumps(canonical, sort_keys=True),
            prev,
            digest,
        ],
    )
    return seq


@dataclass(frozen=True)
class Break:
    seq: int | None
    problem: str


@dataclass(frozen=True)
class Verification:
    entries: int
    first_break: Break | None

    @property
    def intact(self) -> bool:
        return self.first_break is None


def verify(con: duckdb.DuckDBPyConnection) -> Verification:
    """Recompute the chain; also check that every submission event has its audit entry (a deleted
    tail entry leaves the chain consistent but an event without its entry)."""
    rows = con.execute(
        'select seq, "at", action, submission_id, actor, detail, prev_hash, hash from intake.audit_log order by seq'
    ).fetchall()
    prev, expected_seq = GENESIS, 1
    for seq, at, action, sid, actor, detail, prev_hash, digest in rows:
        if seq != expected_seq:
            return Verification(
                len(rows),
                Break(seq, f"seq {seq} follows {expected_seq - 1}: entry {expected_seq} is missing"),
            )
        if prev_hash != prev:
            return Verification(
                len(rows), Break(seq, f"prev_hash {prev_hash} does not match the hash of entry {seq - 1}")
            )
        recomputed = entry_hash(seq, at, action, sid, actor, detail, prev_hash)
        if recomputed != digest:
            return Verification(
                len(rows),
                Break(seq, f"content changed: stored hash {digest}, recomputed {recomputed}"),
            )
        prev, expected_seq = digest, expected_seq + 1
    orphan = con.execute(
        """select min(e.event_id) from intake.submission_events e
           where e.event_id not in (
               select cast(json_extract(detail, '$.event_id') as bigint) from intake.audit_log
               where json_extract(detail, '$.event_id') is not null)"""
    ).fetchone()[0]
    if orphan is not None:
        return Verification(
            len(rows),
            Break(
                None,
                f"submission event {orphan} has no audit entry (an entry after seq {expected_seq - 1} was removed)",
            ),
        )
    return Verification(len(rows), None)
