"""Helpers of the reliability tests: run a cycle in a child process (killed or not), and the state of a
home to compare: content fingerprints of every curated table and the bytes of every report file."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass
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


@dataclass
class State:
    warehouse: dict[str, str]
    published: dict[str, str]
    auditor: dict[str, str]
    reports: dict[str, str]
    landing: list[str]

    audit_intact: bool = True

    def diff(self, other: State) -> list[str]:
        out = [] if self.audit_intact and other.audit_intact else ["the audit log's hash chain is broken"]
        for name in ("warehouse", "published", "auditor", "reports"):
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
    )


def warm(build_marts: bool) -> None:
    """Import what a cycle imports, once, before forking (else every child pays seconds of imports)."""
    import pipelines.cycle  # noqa: F401
    import pipelines.quality.stages  # noqa: F401
    import pipelines.quality.validity  # noqa: F401
    import pipelines.reports.edit_report  # noqa: F401
    import pipelines.warehouse.publish  # noqa: F401

    if build_marts:
        import dbt.cli.main  # noqa: F401

        import pipelines.dbt_runner  # noqa: F401
        import pipelines.reports.dbt_docs  # noqa: F401
        import pipelines.reports.quality_report  # noqa: F401
        import pipelines.reports.supervision_report  # noqa: F401


def run_forked(
    home: Home,
    *,
    build_marts: bool,
    fault_at: str | None = None,
    fault_after: str | None = None,
    fault_log: Path | None = None,
    as_of: datetime = AS_OF,
    timeout_s: float = 900,
) -> int:
    """Run one backfill cycle in a forked child; its exit status: 0 done, -9 killed (SIGKILL)."""
    warm(build_marts)
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            from pipelines import faults
            from pipelines.cycle import run_cycle

            faults.reset()
            os.environ["SUPTECH_PSEUDONYM_KEY"] = PSEUDONYM_KEY
            for key, value in (
                ("SUPTECH_FAULT_AT", fault_at),
                (
                    "SUPTECH_FAULT_AFTER",
                    None if fault_after and fault_after.startswith("cycle.start:") else fault_after,
                ),
                ("SUPTECH_FAULT_LOG", fault_log and str(fault_log)),
            ):
                if value:
                    os.environ[key] = value
                else:
                    os.environ.pop(key, None)
            if fault_after and fault_after.startswith("cycle.start:"):  # a timer from here (any code version)
                timer = threading.Timer(float(fault_after.split(":")[1]), faults.kill_now)
                timer.daemon = True
                timer.start()
            run_cycle(home, as_of=as_of, backfill=True, build_marts=build_marts)
            code = 0
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise TimeoutError(f"cycle did not finish in {timeout_s} s")
        time.sleep(0.05)
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


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
