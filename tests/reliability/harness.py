"""Helpers of the reliability tests: run a cycle in a child process (killed or not), and the state of a
home to compare: content fingerprints of every curated table and the bytes of every report file."""

from __future__ import annotations

import hashlib
import os
import random
import signal
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
# A recovering cycle publishes again (the killed one may have published): compare the rest of the log.
WHERE = {"intake.audit_log": "action <> 'published'"}
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

    def diff(self, other: State) -> list[str]:
        out = []
        for name in ("warehouse", "published", "auditor", "reports"):
            a, b = getattr(self, name), getattr(other, name)
            out += [f"{name}: {k}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        if self.landing != other.landing:
            out.append(f"landing: {self.landing} != {other.landing}")
        return out


def state(home: Home) -> State:
    published, auditor = home.published / "suptech.duckdb", home.published / "auditor.duckdb"
    return State(
        db_state(home.warehouse),
        db_state(published) if published.exists() else {},
        db_state(auditor) if auditor.exists() else {},
        report_state(home),
        sorted(p.relative_to(home.landing).as_posix() for p in home.landing.rglob("*") if p.is_file()),
    )


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
                ("SUPTECH_FAULT_AFTER", fault_after),
                ("SUPTECH_FAULT_LOG", fault_log and str(fault_log)),
            ):
                if value:
                    os.environ[key] = value
                else:
                    os.environ.pop(key, None)
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


def checkpoints(log: Path) -> Counter[str]:
    """How often a run passed each fault checkpoint (from its SUPTECH_FAULT_LOG)."""
    return Counter(line for line in log.read_text(encoding="utf-8").splitlines() if line)


def kill_points(
    passed: Counter[str], rng: random.Random, n: int, prefixes: tuple[str, ...] = ()
) -> list[str]:
    """n fault specs "<name>:<nth>" drawn at random among the checkpoint passes of a run."""
    every = [
        f"{name}:{i}"
        for name, k in sorted(passed.items())
        if not prefixes or name.startswith(prefixes)
        for i in range(1, k + 1)
    ]
    return [rng.choice(every) for _ in range(n)]
