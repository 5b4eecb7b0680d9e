"""The hash-chained access log of the filing API and portal: who signed in, uploaded, read, downloaded, queried.

Kept in the portal store (`<home>/portal/users.db`, table access_log), never in the warehouse, so recording
an access never waits for a running cycle. Each entry is hashed exactly like an intake audit entry
(`pipelines.intake.audit.entry_hash`, with the actor written `<role>:<username>`), chained by prev_hash, and
after each commit the head (seq, hash) is appended to `<home>/audit/access-head.log` with the intake's own
anchor writer (O_APPEND, fsync). `verify` recomputes the chain and checks every anchor, so an edited,
deleted or appended-and-rehashed entry is found (see docs/operations.md, "Users, tokens and the access log").
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from pipelines.home import Home
from pipelines.intake import audit
from pipelines.intake.audit import GENESIS, Break, Verification, entry_hash
from pipelines.portal import connect_store, portal_dir

ANCHOR_FILE = "access-head.log"


def anchor_file(home: Home) -> Path:
    return home.root / audit.ANCHOR_DIR / ANCHOR_FILE


def _actor(username: str, role: str) -> str:
    return f"{role}:{username}"


def _canonical(detail: Mapping | None) -> str | None:
    if detail is None:
        return None
    return json.dumps(json.loads(json.dumps(detail, default=str)), sort_keys=True, ensure_ascii=False)


def record(
    home: Home,
    action: str,
    username: str,
    role: str,
    target: str | None = None,
    detail: Mapping | None = None,
    at: datetime | None = None,
) -> int:
    """Append one entry, commit it and anchor the new head; returns its seq.

    Appends are serialised across threads and processes by an flock on <home>/portal/access.lock, so
    anchors are written in seq order."""
    at = (at or datetime.now(UTC)).astimezone(UTC)
    text = _canonical(detail)
    with open(portal_dir(home) / "access.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        con = connect_store(home)
        try:
            con.execute("begin immediate")
            try:
                last = con.execute("select seq, hash from access_log order by seq desc limit 1").fetchone()
                seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
                digest = entry_hash(seq, at, action, target, _actor(username, role), text, prev)
                con.execute(
                    "insert into access_log values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        seq,
                        at.isoformat(timespec="microseconds"),
                        action,
                        target,
                        username,
                        role,
                        text,
                        prev,
                        digest,
                    ],
                )
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise
        finally:
            con.close()
        audit.write_anchor(anchor_file(home), seq, digest, at)
    return seq


def entries(home: Home, limit: int | None = None) -> list[dict[str, object]]:
    """The newest entries first (all of them without a limit)."""
    con = connect_store(home)
    try:
        cur = con.execute(
            "select seq, at, action, target, username, role, detail from access_log order by seq desc"
            + (" limit ?" if limit is not None else ""),
            [limit] if limit is not None else [],
        )
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
    for r in rows:
        r["detail"] = json.loads(r["detail"]) if r["detail"] else None
    return rows


def verify(home: Home) -> Verification:
    """Recompute the chain and check it against <home>/audit/access-head.log; names the first problem."""
    con = connect_store(home)
    try:
        rows = con.execute(
            "select seq, at, action, target, username, role, detail, prev_hash, hash from access_log order by seq"
        ).fetchall()
    finally:
        con.close()
    path = anchor_file(home)
    anchors, problems = audit.read_anchors(path)
    last_anchor = anchors[-1] if anchors else None

    def result(brk: Break | None, notes: tuple[str, ...] = ()) -> Verification:
        end = (rows[-1][0], rows[-1][8]) if rows else (0, GENESIS)
        return Verification(len(rows), brk, notes, end, last_anchor)

    hashes: dict[int, str] = {}
    prev, expected = GENESIS, 1
    for seq, at, action, target, username, role, detail, prev_hash, digest in rows:
        if seq != expected:
            return result(Break(seq, f"seq {seq} follows {expected - 1}: entry {expected} is missing"))
        if prev_hash != prev:
            return result(Break(seq, f"prev_hash of entry {seq} does not match the hash of entry {seq - 1}"))
        recomputed = entry_hash(
            seq, datetime.fromisoformat(at), action, target, _actor(username, role), detail, prev_hash
        )
        if recomputed != digest:
            return result(Break(seq, f"entry {seq} changed: stored hash {digest}, recomputed {recomputed}"))
        hashes[seq] = digest
        prev, expected = digest, expected + 1
    end = expected - 1
    if problems:
        return result(Break(None, problems[0]))
    if not anchors:
        if end == 0:
            return result(None)
        return result(
            Break(
                None,
                f"the access log has {end} entries but {path} is missing or empty: it was deleted or "
                "emptied; restore it from a backup and verify again",
            )
        )
    previous = 0
    for a in anchors:
        if a.seq < previous:
            return result(Break(None, f"{path} line {a.line} (seq {a.seq}) follows seq {previous}: edited"))
        previous = a.seq
        if a.seq > end:
            return result(
                Break(
                    end + 1,
                    f"entries {end + 1}..{a.seq} are missing: seq {a.seq} was anchored at {a.at} "
                    f"({path.name} line {a.line}) but the log ends at seq {end}; the newest entries were deleted",
                )
            )
        if hashes[a.seq] != a.hash:
            return result(
                Break(
                    a.seq,
                    f"entry {a.seq} was rewritten: its hash {hashes[a.seq]} differs from the one anchored "
                    f"at {a.at} ({a.hash}, {path.name} line {a.line})",
                )
            )
    if end > anchors[-1].seq:
        note = (
            f"{end - anchors[-1].seq} entries after the last anchor (seq {anchors[-1].seq}): committed, not "
            "yet anchored (a process stopped between its commit and the anchor write)"
        )
        return result(None, (note,))
    return result(None)
