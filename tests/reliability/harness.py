"""Helpers of the reliability tests: run a cycle in a child process (killed or not), and the state of a
home to compare: content fingerprints of every curated table and the bytes of every report file."""

from __future__ import annotations

import hashlib
import multiprocessing
import multiprocessing.context
import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.home import Home
from pipelines.warehouse.fingerprint import table_fingerprints

AS_OF = datetime(2026, 12, 1, tzinfo=UTC)
# Every schema the cycle writes; dbt's own schemas (marts, staging ...) are found by name.
SKIP_SCHEMAS = {"information_schema", "pg_catalog", "main"}
# Report files that record no warehouse content (dbt's static docs embed dbt's own run metadata).
SKIP_REPORTS = ("dbt_docs/",)
# What two runs may legitimately differ in (everything else must be equal, bit for bit):
EXCLUDE = {
    # the absolute path of the home the package was archived in (two homes)
    "intake.deliveries": ("archive_path",),
    "intake.submissions": ("archive_path",),
    # wall clock: when the warehouse file was created, when a snapshot file was made
    "meta.schema_version": ("applied_at",),
    # when a snapshot was made; the audit entry it names (a recovering cycle publishes once more)
    "meta.publication": ("published_at", "audit_head_seq", "audit_head_hash"),
}
# The audit log records the recovery itself: a recovering cycle publishes again (the killed one may have
# published), the intake completes the archive move a kill interrupted ('archive_recovered'). Compare the
# other entries as a set (their seq and hash chain shift by those), and check the chain is intact.
WHERE = {"intake.audit_log": "action not in ('published', 'archive_recovered')"}
EXCLUDE["intake.audit_log"] = ("seq", "prev_hash", "hash")
# Every run of a test uses this pseudonym key (else each home makes its own: other pseudonyms)
PSEUDONYM_KEY = "5e" * 32


def schemas(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select distinct table_schema from information_schema.tables where table_catalog = current_database()"
    ).fetchall()
    return sorted(s for (s,) in rows if s not in SKIP_SCHEMAS)


def db_state(path: Path) -> dict[str, str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return table_fingerprints(con, schemas(con), exclude=EXCLUDE, where=WHERE)
    finally:
        con.close()


def report_state(home: Home) -> dict[str, str]:
    out = {}
    for p in sorted(home.reports.rglob("*")):
        rel = p.relative_to(home.reports).as_posix()
        if p.is_file() and not rel.startswith(SKIP_REPORTS):
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def lake_state(home: Home) -> dict[str, str]:
    """Every file and folder of <home>/lake (the open Parquet layout): its mode, and a file's sha256."""
    root = home.root / "lake"
    out = {}
    for p in sorted(root.rglob("*")) if root.exists() else []:
        rel = p.relative_to(root).as_posix()
        mode = f"{p.stat().st_mode & 0o777:o}"
        out[rel] = f"{mode} {hashlib.sha256(p.read_bytes()).hexdigest()}" if p.is_file() else mode
    return out


@dataclass
class State:
    warehouse: dict[str, str]
    published: dict[str, str]
    auditor: dict[str, str]
    reports: dict[str, str]
    landing: list[str]

    audit_intact: bool = True
    lake: dict[str, str] = field(default_factory=dict)

    def diff(self, other: State) -> list[str]:
        out = [] if self.audit_intact and other.audit_intact else ["the audit log's hash chain is broken"]
        for name in ("warehouse", "published", "auditor", "reports", "lake"):
            a, b = getattr(self, name), getattr(other, name)
            out += [f"{name}: {k}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        if self.landing != other.landing:
            out.append(f"landing: {self.landing} != {other.landing}")
        return out


def audit_intact(path: Path) -> bool:
    from pipelines.intake.audit import verify

    con = duckdb.connect(str(path), read_only=True)
    try:
        return verify(con).intact
    finally:
        con.close()


def state(home: Home) -> State:
    published, auditor = home.published / "suptech.duckdb", home.published / "auditor.duckdb"
    return State(
        db_state(home.warehouse),
        db_state(published) if published.exists() else {},
        db_state(auditor) if auditor.exists() else {},
        report_state(home),
        sorted(p.relative_to(home.landing).as_posix() for p in home.landing.rglob("*") if p.is_file()),
        audit_intact(home.warehouse),
        lake_state(home),
    )


# What a cycle imports (with dbt and the period reports when it builds the marts): the fork server imports
# it once, so a child starts in milliseconds.
PRELOAD = [
    "pipelines.cycle",
    "pipelines.quality.stages",
    "pipelines.quality.validity",
    "pipelines.reports.edit_report",
    "pipelines.warehouse.publish",
    "dbt.cli.main",
    "pipelines.dbt_runner",
    "pipelines.reports.dbt_docs",
    "pipelines.reports.quality_report",
    "pipelines.reports.supervision_report",
]
_CONTEXT: multiprocessing.context.ForkServerContext | None = None


def _context() -> multiprocessing.context.ForkServerContext:
    """Children fork from a fork server: a fresh single-threaded interpreter holding only the preloaded
    imports. Forking the test process itself deadlocked in CI: a lock held by one of its other threads (an
    earlier test's dbt or Dagster run) at the fork stays locked in the child forever."""
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = multiprocessing.get_context("forkserver")
        _CONTEXT.set_forkserver_preload(PRELOAD)
    return _CONTEXT


def warm() -> None:
    """Start the fork server (its imports take seconds) before a run is timed."""
    child = _context().Process(target=_noop)
    child.start()
    child.join()


def _noop() -> None:
    pass


def _child(
    home: Home,
    build_marts: bool,
    fault_at: str | None,
    fault_after: str | None,
    fault_log: str | None,
    as_of: datetime,
) -> None:
    """One cycle in the child; exits 0 when it completed, 1 on an exception (printed), -9 when killed."""
    code = 1
    try:
        from pipelines import faults
        from pipelines.cycle import run_cycle

        faults.reset()
        os.environ["SUPTECH_PSEUDONYM_KEY"] = PSEUDONYM_KEY
        timed = fault_after if fault_after and fault_after.startswith("cycle.start:") else None
        for key, value in (
            ("SUPTECH_FAULT_AT", fault_at),
            ("SUPTECH_FAULT_AFTER", None if timed else fault_after),
            ("SUPTECH_FAULT_LOG", fault_log),
        ):
            if value:
                os.environ[key] = value
            else:
                os.environ.pop(key, None)
        if timed:  # a timer from here (any code version)
            timer = threading.Timer(float(timed.split(":")[1]), faults.kill_now)
            timer.daemon = True
            timer.start()
        run_cycle(home, as_of=as_of, backfill=True, build_marts=build_marts)
        code = 0
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


def run_forked(
    home: Home,
    *,
    build_marts: bool,
    fault_at: str | None = None,
    fault_after: str | None = None,
    fault_log: Path | None = None,
    as_of: datetime = AS_OF,
    timeout_s: float | None = None,
) -> int:
    """Run one backfill cycle in a child process; its exit status: 0 done, -9 killed (SIGKILL). A cycle
    that takes longer than `timeout_s` (default $SUPTECH_CYCLE_TIMEOUT, else 600 s) is killed: an error."""
    timeout_s = timeout_s or float(os.environ.get("SUPTECH_CYCLE_TIMEOUT", "600"))
    child = _context().Process(
        target=_child,
        args=(home, build_marts, fault_at, fault_after, fault_log and str(fault_log), as_of),
    )
    child.start()
    child.join(timeout_s)
    if child.exitcode is None:
        child.kill()
        child.join()
        raise TimeoutError(f"cycle did not finish in {timeout_s} s")
    return child.exitcode


def timeline(log: Path) -> list[tuple[str, float]]:
    """The checkpoints a run passed, in order, with seconds since its first (from its SUPTECH_FAULT_LOG)."""
    if not log.exists():  # a run that passed no checkpoint
        return []
    rows = [line.split("\t") for line in log.read_text(encoding="utf-8").splitlines() if line]
    t0 = float(rows[0][1]) if rows else 0.0
    return [(name, float(t) - t0) for name, t in rows]


def checkpoints(log: Path) -> Counter[str]:
    """How often a run passed each fault checkpoint."""
    return Counter(name for name, _ in timeline(log))
