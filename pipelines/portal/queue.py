"""Writes for the warehouse requested through the API, queued until the next cycle applies them.

The API never opens the live warehouse (a cycle may hold it for minutes), so an acknowledgement is written
as one JSON file per request under `<home>/queue/acknowledgements/` (a temp file, fsynced, renamed: a
request is there whole or not at all) and shown as pending. The cycle calls `apply_pending(con, home, at)`
with its writer connection: each request goes through `pipelines.intake.acknowledge.acknowledge` (the same
checks and the same ACKNOWLEDGED event and audit entry as `suptech acknowledge`), and the request file is
moved to `done/` with its outcome. Re-running after a crash is safe: a request whose acknowledgement is
already in the warehouse is marked applied, not refused.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.home import Home
from pipelines.intake.acknowledge import AcknowledgeError, acknowledge

QUEUE_DIR = "queue"
ACK_DIR = "acknowledgements"
DONE_DIR = "done"


@dataclass(frozen=True)
class AckRequest:
    request_id: str
    submission_id: str
    rule_id: str
    reason: str
    by: str  # the portal user (kept as acknowledged_by)
    role: str
    enterprise_id: str | None
    requested_at: str


@dataclass(frozen=True)
class Outcome:
    request_id: str
    submission_id: str
    rule_id: str
    applied: bool
    message: str


def ack_dir(home: Home) -> Path:
    return home.root / QUEUE_DIR / ACK_DIR


def done_dir(home: Home) -> Path:
    return ack_dir(home) / DONE_DIR


def _write_atomic(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=2, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.rename(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def enqueue_acknowledgement(
    home: Home,
    submission_id: str,
    rule_id: str,
    reason: str,
    by: str,
    role: str,
    enterprise_id: str | None,
    at: datetime | None = None,
) -> AckRequest:
    """Queue one acknowledgement; the request id sorts in the order requests were made."""
    at = (at or datetime.now(UTC)).astimezone(UTC)
    request_id = f"{at.strftime('%Y%m%dT%H%M%S%fZ')}-{secrets.token_hex(4)}"
    req = AckRequest(
        request_id,
        submission_id,
        rule_id,
        reason.strip(),
        by,
        role,
        enterprise_id,
        at.isoformat(timespec="microseconds"),
    )
    _write_atomic(ack_dir(home) / f"{request_id}.json", asdict(req))
    return req


def _read(path: Path) -> AckRequest | None:
    try:
        return AckRequest(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def pending(home: Home, submission_id: str | None = None) -> list[AckRequest]:
    """Requests not yet applied, oldest first (optionally of one submission)."""
    folder = ack_dir(home)
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.json")):
        req = _read(path)
        if req is not None and (submission_id is None or req.submission_id == submission_id):
            out.append(req)
    return out


def done(home: Home, submission_id: str | None = None) -> list[dict]:
    """Processed requests with their outcome, oldest first."""
    folder = done_dir(home)
    if not folder.is_dir():
        return []
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
    return [d for d in docs if submission_id is None or d.get("submission_id") == submission_id]


def _already_applied(con: duckdb.DuckDBPyConnection, req: AckRequest) -> bool:
    row = con.execute(
        "select 1 from intake.acknowledgements where submission_id = ? and rule_id = ? "
        "and acknowledged_by = ? and reason = ?",
        [req.submission_id, req.rule_id, req.by, req.reason],
    ).fetchone()
    return row is not None


def apply_pending(con: duckdb.DuckDBPyConnection, home: Home, at: datetime) -> list[Outcome]:
    """Apply every queued acknowledgement with the cycle's writer connection, oldest first.

    Call with the writer lock held, after the intake and the decisions of the cycle (so a submission taken
    in by this cycle can be acknowledged) and before its edit reports and publish; the submissions whose
    outcome is `applied` are the ones whose reports and snapshot rows change."""
    outcomes: list[Outcome] = []
    folder = ack_dir(home)
    if not folder.is_dir():
        return outcomes
    for path in sorted(folder.glob("*.json")):
        req = _read(path)
        if req is None:
            os.replace(path, _done_target(home, path.name + ".unreadable"))
            continue
        if _already_applied(con, req):
            applied, message = True, "applied (recorded by an earlier cycle)"
        else:
            try:
                n = acknowledge(con, req.submission_id, req.rule_id, req.reason, req.by, at)
                applied, message = True, f"applied: {n} finding(s) acknowledged"
            except AcknowledgeError as exc:
                applied, message = False, f"refused: {exc}"
        outcome = Outcome(req.request_id, req.submission_id, req.rule_id, applied, message)
        _write_atomic(
            _done_target(home, path.name),
            {**asdict(req), "applied": applied, "outcome": message, "processed_at": at.isoformat()},
        )
        path.unlink()
        outcomes.append(outcome)
    return outcomes


def _done_target(home: Home, name: str) -> Path:
    target = done_dir(home) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    return target
