"""The hash-chained audit log of intake actions (intake.audit_log), anchored outside the warehouse.

Each entry's hash is sha256 over a canonical JSON of (seq, at, action, submission_id, actor, detail,
prev_hash); prev_hash is the previous entry's hash ("" for the first). Entries are appended with the
caller's connection, so inside the transaction of the change they record. After each commit that
appended entries, the head (seq, hash) is appended to <home>/audit/head.log (see "anchored" below).
`verify` recomputes the chain, checks it against the anchors, and names the first problem.
"""

from __future__ import annotations

import hashlib
import json
import os
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines.warehouse.db import fetch_one

GENESIS = ""
INTAKE_ACTOR = "intake"


def _canonical_detail(detail: Mapping | str | None) -> dict[str, Any] | None:
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
    if con in _open or _in_transaction(con):
        _pending.add(con)  # anchored by lifecycle.transaction after its commit
    else:
        anchor(con)  # autocommit: the entry is committed already
    return seq


# --- The chain head anchored outside the warehouse file --------------------------------------------------
#
# Deleting the newest entries (with or without their events) or rewriting the last one and recomputing its
# hash leaves a chain that is consistent in itself. So after every commit that appended entries the head
# (seq, hash) is appended to <home>/audit/head.log, a file outside the warehouse, opened O_APPEND and
# fsynced: verify checks that every anchored (seq, hash) is still in the chain. A process killed between
# its commit and the anchor write leaves entries after the last anchor: reported as information, and the
# next anchoring covers them.

ANCHOR_DIR = "audit"
ANCHOR_FILE = "head.log"

_anchor_override: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # con -> Path | None
_pending: weakref.WeakSet = weakref.WeakSet()  # connections that appended inside an open transaction
_open: weakref.WeakSet = weakref.WeakSet()  # connections inside lifecycle.transaction (saves two queries)
_last_written: dict[str, tuple[int, str]] = {}  # head.log path -> last anchor written by this process


@dataclass(frozen=True)
class Anchor:
    line: int  # 1-based line of head.log
    seq: int
    hash: str
    at: str


def head(con: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    """The chain's last (seq, hash); (0, "") for an empty log."""
    row = con.execute("select seq, hash from intake.audit_log order by seq desc limit 1").fetchone()
    return (int(row[0]), row[1]) if row else (0, GENESIS)


def anchor_file(home_root: Path) -> Path:
    return Path(home_root) / ANCHOR_DIR / ANCHOR_FILE


def set_anchor(con: duckdb.DuckDBPyConnection, path: Path | None) -> None:
    """Anchor this connection's commits to `path` (None: never). Without it the path is derived from the
    database file: <home>/warehouse/suptech.duckdb anchors to <home>/audit/head.log; any other file (a
    published snapshot, a copy, an in-memory database) is not anchored."""
    _anchor_override[con] = path


def anchor_path(con: duckdb.DuckDBPyConnection) -> Path | None:
    if con in _anchor_override:
        return _anchor_override[con]
    row = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    if not row or not row[0]:
        return None
    db = Path(row[0]).resolve()
    if db.name != "suptech.duckdb" or db.parent.name != "warehouse":
        return None
    return anchor_file(db.parent.parent)


def _in_transaction(con: duckdb.DuckDBPyConnection) -> bool:
    """True inside an explicit transaction (every autocommit statement gets a new txid)."""
    q = "select txid_current()"
    return con.sql(q).fetchall()[0][0] == con.sql(q).fetchall()[0][0]


def write_anchor(path: Path, seq: int, digest: str, at: datetime | None = None) -> None:
    """Append one anchor line "seq<TAB>hash<TAB>at" to head.log (O_APPEND, fsync; directory 0700)."""
    if seq <= 0 or _last_written.get(str(path)) == (seq, digest):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    stamp = (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{seq}\t{digest}\t{stamp}\n".encode())  # one write: never interleaved
        os.fsync(fd)
    finally:
        os.close(fd)
    _last_written[str(path)] = (seq, digest)


def anchor(con: duckdb.DuckDBPyConnection) -> None:
    """Anchor the committed head of this connection's warehouse (no-op for files that are not anchored)."""
    _pending.discard(con)
    path = anchor_path(con)
    if path is not None:
        write_anchor(path, *head(con))


def after_begin(con: duckdb.DuckDBPyConnection) -> None:
    """Called by lifecycle.transaction after its begin."""
    _open.add(con)


def after_commit(con: duckdb.DuckDBPyConnection) -> None:
    """Called by lifecycle.transaction after a commit: anchor if the transaction appended entries."""
    _open.discard(con)
    if con in _pending:
        anchor(con)


def after_rollback(con: duckdb.DuckDBPyConnection) -> None:
    _open.discard(con)
    _pending.discard(con)


def read_anchors(path: Path) -> tuple[list[Anchor], list[str]]:
    """The anchors of head.log and the problems with its lines (a torn last line is not a problem: a
    process killed while writing it; it is reported as a note by verify)."""
    anchors: list[Anchor] = []
    problems: list[str] = []
    if not path.exists():
        return anchors, problems
    data = path.read_bytes().decode("utf-8", errors="replace")
    lines = data.split("\n")
    for n, text in enumerate(lines, start=1):
        if not text:
            continue
        parts = text.split("\t")
        torn = n == len(lines)  # no newline after it
        try:
            seq, digest, at = int(parts[0]), parts[1], parts[2]
            if len(digest) != 64:
                raise ValueError(digest)
        except (ValueError, IndexError):
            if not torn:
                problems.append(
                    f"{path} line {n} is not an anchor (seq, hash, at): the anchor file was edited"
                )
            continue
        anchors.append(Anchor(n, seq, digest, at))
    return anchors, problems


# --- Verification ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    seq: int | None
    problem: str


@dataclass(frozen=True)
class Verification:
    entries: int
    first_break: Break | None
    notes: tuple[str, ...] = ()  # information that is not a break (entries not yet anchored, ...)
    head: tuple[int, str] = (0, GENESIS)
    last_anchor: Anchor | None = None

    @property
    def intact(self) -> bool:
        return self.first_break is None


def verify(
    con: duckdb.DuckDBPyConnection,
    anchors: Sequence[Anchor] | None = None,
    *,
    snapshot: bool = False,
    anchor_problems: Sequence[str] = (),
) -> Verification:
    """Recompute the chain, check that every submission event has its audit entry, and, given the anchors
    of head.log, that each anchored (seq, hash) is still in the chain (so the newest entries cannot be
    deleted or rewritten unseen). `snapshot`: the log is a published copy, which may end before the
    latest anchors (the live log has moved on since)."""
    rows = con.execute(
        'select seq, "at", action, submission_id, actor, detail, prev_hash, hash from intake.audit_log order by seq'
    ).fetchall()
    hashes: dict[int, str] = {}

    def result(brk: Break | None, notes: tuple[str, ...] = ()) -> Verification:
        end = (rows[-1][0], rows[-1][7]) if rows else (0, GENESIS)
        last = anchors[-1] if anchors else None
        return Verification(len(rows), brk, notes, end, last)

    prev, expected_seq = GENESIS, 1
    for seq, at, action, sid, actor, detail, prev_hash, digest in rows:
        if seq != expected_seq:
            return result(
                Break(seq, f"seq {seq} follows {expected_seq - 1}: entry {expected_seq} is missing")
            )
        if prev_hash != prev:
            return result(Break(seq, f"prev_hash {prev_hash} does not match the hash of entry {seq - 1}"))
        recomputed = entry_hash(seq, at, action, sid, actor, detail, prev_hash)
        if recomputed != digest:
            return result(Break(seq, f"content changed: stored hash {digest}, recomputed {recomputed}"))
        hashes[seq] = digest
        prev, expected_seq = digest, expected_seq + 1
    end = expected_seq - 1
    orphan = fetch_one(
        con,
        """select min(e.event_id) from intake.submission_events e
           where e.event_id not in (
               select cast(json_extract(detail, '$.event_id') as bigint) from intake.audit_log
               where json_extract(detail, '$.event_id') is not null)""",
    )[0]
    if orphan is not None:
        return result(
            Break(
                None, f"submission event {orphan} has no audit entry (an entry after seq {end} was removed)"
            )
        )
    if anchors is None:
        return result(None)
    return result(*_check_anchors(hashes, end, anchors, snapshot, anchor_problems))


def _check_anchors(
    hashes: Mapping[int, str],
    end: int,
    anchors: Sequence[Anchor],
    snapshot: bool,
    anchor_problems: Sequence[str],
) -> tuple[Break | None, tuple[str, ...]]:
    if anchor_problems:
        return Break(None, anchor_problems[0]), ()
    if not anchors:
        if end == 0:
            return None, ()
        return Break(
            None,
            f"the log has {end} entries but the anchor file ({ANCHOR_DIR}/{ANCHOR_FILE}) is missing or empty: "
            "it was deleted or emptied; restore it from a backup (suptech restore) and verify again",
        ), ()
    previous = 0
    for a in anchors:
        if a.seq < previous:
            return Break(
                None,
                f"anchor line {a.line} (seq {a.seq}) follows seq {previous}: the anchor file was edited",
            ), ()
        previous = a.seq
        if a.seq > end:
            if snapshot:
                continue  # anchored after this copy was published
            return Break(
                end + 1,
                f"entries {end + 1}..{a.seq} are missing: seq {a.seq} was anchored at {a.at} "
                f"(anchor line {a.line}) but the log ends at seq {end}; the newest entries were deleted",
            ), ()
        if hashes[a.seq] != a.hash:
            return Break(
                a.seq,
                f"entry {a.seq} was rewritten: its hash {hashes[a.seq]} differs from the one anchored at {a.at} "
                f"({a.hash}, anchor line {a.line})",
            ), ()
    last = anchors[-1].seq
    notes: tuple[str, ...] = ()
    if end > last:
        notes = (
            f"{end - last} entries after the last anchor (seq {last}): committed, not yet anchored "
            "(a process stopped between its commit and the anchor write); the next commit anchors them",
        )
    return None, notes


def publication_head(con: duckdb.DuckDBPyConnection) -> tuple[int, str] | None:
    """The audit head a published snapshot recorded in meta.publication, if it has one: the last row's
    columns named *seq and *hash (e.g. audit_head_seq, audit_head_hash)."""
    cols = [
        c
        for (c,) in con.execute(
            "select column_name from information_schema.columns where table_catalog = current_database() "
            "and table_schema = 'meta' and table_name = 'publication' order by ordinal_position"
        ).fetchall()
    ]
    seq_col = next((c for c in cols if c.lower().endswith("seq")), None)
    hash_col = next((c for c in cols if c.lower().endswith("hash")), None)
    if seq_col is None or hash_col is None:
        return None
    row = con.execute(
        f'select "{seq_col}", "{hash_col}" from meta.publication order by "{seq_col}" desc nulls last limit 1'
    ).fetchone()
    return (int(row[0]), row[1]) if row and row[0] is not None else None


def verify_home(
    home_root: Path,
    con: duckdb.DuckDBPyConnection,
    *,
    snapshot: bool = False,
    published_head: tuple[int, str] | None = None,
) -> Verification:
    """verify() of a home's log (live file or published snapshot) against the home's anchor file.

    A snapshot must end exactly at the head it recorded when it was published (if it recorded one). For the
    live log, `published_head` (the published snapshot's head) is one more anchor: the live log must hold
    it, and head.log must reach it (publishing follows anchoring, so a head.log that ends before it was
    truncated)."""
    path = anchor_file(home_root)
    anchors, problems = read_anchors(path)
    result = verify(con, anchors, snapshot=snapshot, anchor_problems=problems)
    if not result.intact:
        return result

    def broken(brk: Break) -> Verification:
        return Verification(result.entries, brk, result.notes, result.head, result.last_anchor)

    end_seq, end_hash = result.head
    if snapshot:
        recorded = publication_head(con)
        if recorded is not None and recorded != result.head:
            return broken(
                Break(
                    None,
                    f"the snapshot recorded audit head seq {recorded[0]} when it was published, but its log ends "
                    f"at seq {end_seq}: entries were deleted or rewritten",
                )
            )
        return result
    if published_head is not None and published_head[0] > 0:
        seq, digest = published_head
        if seq > end_seq:
            return broken(
                Break(
                    end_seq + 1,
                    f"the published snapshot holds entries up to seq {seq} but the live log ends at seq {end_seq}: "
                    "the newest entries were deleted",
                )
            )
        stored = fetch_one(con, "select hash from intake.audit_log where seq = ?", [seq])[0]
        if stored != digest:
            return broken(
                Break(seq, f"entry {seq} differs from the published snapshot's copy: the entry was rewritten")
            )
        last = anchors[-1].seq if anchors else 0
        if last < seq:
            return broken(
                Break(
                    None,
                    f"{path} ends at seq {last} but the published snapshot already holds seq {seq}: the anchor "
                    "file was truncated; restore it from a backup (suptech restore) and verify again",
                )
            )
    return result
