"""`suptech doctor`: is this installation and home healthy, and if not, what to do.

Checks, each a Check with a status (ok, info, warning, problem), what it found and what to do:
  environment  python, duckdb, dbt and the other pinned packages against pyproject.toml; the dbt manifest
               Dagster loads; chromium (optional: browser tests only)
  warehouse    schema version; raw rows of every accepted or superseded submission equal intake.files'
               row counts; no raw rows of MALFORMED or unknown submissions; no RECEIVED submission older
               than the last publication (a cycle decides every one); the audit chain and its anchors
  snapshots    each published snapshot's recorded audit head equals the warehouse's (else stale)
  landing      packages waiting, and why
  archive      every delivery's archive folder exists
The live warehouse is opened read-only under the writer lock (a running cycle is waited for, up to a
timeout). Only problems make the home unhealthy (exit code 1).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.home import Home

OK, INFO, WARNING, PROBLEM = "ok", "info", "warning", "problem"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
ACCOUNTED = ("ACCEPTED", "ACCEPTED_WITH_WARNINGS", "SUPERSEDED")
SHOWN = 10  # examples listed per check


@dataclass(frozen=True)
class Check:
    area: str
    name: str
    status: str
    message: str
    fix: str | None = None


@dataclass
class Diagnosis:
    home: Path
    checks: list[Check]

    @property
    def healthy(self) -> bool:
        return not any(c.status == PROBLEM for c in self.checks)

    def problems(self) -> list[Check]:
        return [c for c in self.checks if c.status == PROBLEM]

    def to_json(self) -> str:
        return json.dumps(
            {"home": str(self.home), "healthy": self.healthy, "checks": [asdict(c) for c in self.checks]},
            default=str,
        )


def _listed(items: list[str]) -> str:
    more = f" and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more


# --- environment ---------------------------------------------------------------------------------------


def _pins() -> tuple[str | None, dict[str, str]]:
    path = PROJECT_ROOT / "pyproject.toml"
    if not path.exists():
        return None, {}
    project = tomllib.loads(path.read_text(encoding="utf-8"))["project"]
    pins = {}
    for dep in project.get("dependencies", []):
        name, sep, version = dep.partition("==")
        if sep:
            pins[name.split("[")[0].strip()] = version.strip()
    return project.get("requires-python"), pins


def check_environment() -> Iterator[Check]:
    from packaging.specifiers import SpecifierSet

    requires, pins = _pins()
    py = ".".join(map(str, sys.version_info[:3]))
    if requires and py not in SpecifierSet(requires):
        yield Check(
            "environment",
            "python",
            PROBLEM,
            f"python {py}, the project needs {requires}",
            "recreate the environment with a matching python (`make setup`)",
        )
    else:
        yield Check("environment", "python", OK, f"python {py}")
    wrong = []
    for name, pinned in sorted(pins.items()):
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = "missing"
        if installed != pinned:
            wrong.append(f"{name} {installed} (pinned {pinned})")
    if wrong:
        yield Check(
            "environment",
            "pinned packages",
            PROBLEM,
            f"installed versions differ from the pins: {_listed(wrong)}",
            "reinstall from the lock file: `make setup` (uv sync)",
        )
    else:
        key = ("duckdb", "dbt-core", "dbt-duckdb")
        yield Check(
            "environment",
            "pinned packages",
            OK,
            ", ".join(f"{k} {pins[k]}" for k in key if k in pins) + f"; {len(pins)} pins match",
        )
    from pipelines.dbt_runner import PROJECT_DIR

    manifest = PROJECT_DIR / "target" / "manifest.json"
    if manifest.exists():
        yield Check("environment", "dbt manifest", OK, str(manifest))
    else:
        yield Check(
            "environment",
            "dbt manifest",
            WARNING,
            f"{manifest} is missing: Dagster cannot load the dbt assets (cycles are not affected)",
            "run `make dbt-parse`",
        )
    browser = shutil.which("chromium")
    yield Check(
        "environment",
        "chromium",
        OK if browser else INFO,
        browser or "not installed: only the browser tests need it",
        None if browser else "optional: `make setup-browser`",
    )


# --- warehouse ------------------------------------------------------------------------------------------


def _raw_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        t
        for (t,) in con.execute(
            "select table_name from information_schema.tables where table_catalog = current_database() "
            "and table_schema = 'raw' and table_type = 'BASE TABLE' order by 1"
        ).fetchall()
    ]


def check_row_counts(con: duckdb.DuckDBPyConnection) -> Iterator[Check]:
    tables = _raw_tables(con)
    wrong: list[str] = []
    orphans: list[str] = []
    for ft in tables:
        rows = con.execute(
            f"""with r as (select submission_id, count(*) as n from raw."{ft}" group by 1)
                select f.submission_id, f.row_count, coalesce(r.n, 0)
                from intake.files f join intake.submissions s using (submission_id)
                left join r using (submission_id)
                where f.filing_type = ? and s.status in (select unnest(?))
                  and f.row_count is distinct from coalesce(r.n, 0)
                order by 1""",
            [ft, list(ACCOUNTED)],
        ).fetchall()
        wrong += [f"{sid} {ft}: {have} raw rows, manifest {want}" for sid, want, have in rows]
        rows = con.execute(
            f"""select r.submission_id, coalesce(s.status, 'unknown'), count(*) from raw."{ft}" r
                left join intake.submissions s using (submission_id)
                where s.submission_id is null or s.status = 'MALFORMED' group by 1, 2 order by 1"""
        ).fetchall()
        orphans += [f"{sid} ({status}) {ft}: {n} rows" for sid, status, n in rows]
    if wrong:
        yield Check(
            "warehouse",
            "raw row counts",
            PROBLEM,
            f"{len(wrong)} accepted or superseded filings whose raw rows differ from intake.files: {_listed(wrong)}",
            "restore the warehouse from the last good backup (suptech restore), or have the filer resubmit; "
            "do not edit raw tables by hand",
        )
    else:
        yield Check(
            "warehouse",
            "raw row counts",
            OK,
            f"every accepted filing's rows are in raw ({len(tables)} tables)",
        )
    if orphans:
        yield Check(
            "warehouse",
            "orphan raw rows",
            PROBLEM,
            f"raw rows of submissions that were never loaded: {_listed(orphans)}",
            "restore the warehouse from the last good backup (suptech restore); such rows are never published "
            "by a cycle and come from a manual change or a damaged file",
        )
    else:
        yield Check("warehouse", "orphan raw rows", OK, "no raw rows of MALFORMED or unknown submissions")


def check_stuck(con: duckdb.DuckDBPyConnection, published_seq: int | None) -> Iterator[Check]:
    """RECEIVED submissions received before the last publication: every cycle decides them all before
    publishing, so such a submission was left behind."""
    from pipelines.warehouse.db import fetch_one

    (last_pub,) = fetch_one(con, "select max(seq) from intake.audit_log where action = 'published'")
    boundary = max(last_pub or 0, published_seq or 0)
    if not boundary:
        yield Check("warehouse", "stuck submissions", INFO, "nothing published yet: no cycle to compare with")
        return
    rows = con.execute(
        """select s.submission_id from intake.submissions s
           join intake.audit_log a on a.submission_id = s.submission_id and a.action = 'received'
           where s.status = 'RECEIVED' group by 1 having min(a.seq) < ? order by 1""",
        [boundary],
    ).fetchall()
    if rows:
        yield Check(
            "warehouse",
            "stuck submissions",
            PROBLEM,
            f"{len(rows)} submissions still RECEIVED after the last cycle: {_listed([r[0] for r in rows])}",
            "run `suptech run`: a cycle decides every RECEIVED submission; if one stays RECEIVED, read the "
            "cycle's error output",
        )
    else:
        yield Check("warehouse", "stuck submissions", OK, "no RECEIVED submission older than the last cycle")


def check_audit(
    home: Home, con: duckdb.DuckDBPyConnection, published: tuple[int, str] | None
) -> Iterator[Check]:
    from pipelines.intake.audit import verify_home

    result = verify_home(home.root, con, published_head=published)
    brk = result.first_break
    if brk is None:
        anchored = f", anchored up to seq {result.last_anchor.seq}" if result.last_anchor else ""
        yield Check("warehouse", "audit log", OK, f"{result.entries} entries intact{anchored}")
    else:
        where = f"entry {brk.seq}: " if brk.seq is not None else ""
        yield Check(
            "warehouse",
            "audit log",
            PROBLEM,
            f"{where}{brk.problem}",
            "treat as a security incident: keep this home as evidence, compare with the last backup "
            "(restore it into another folder and run `suptech audit verify` there)",
        )
    for note in result.notes:
        yield Check("warehouse", "audit anchors", INFO, note)


def _snapshot_heads(home: Home) -> dict[str, tuple[int, str] | None]:
    from pipelines.intake.audit import head, publication_head
    from pipelines.warehouse.db import SNAPSHOT_NAMES

    heads: dict[str, tuple[int, str] | None] = {}
    for kind, name in SNAPSHOT_NAMES.items():
        path = home.published / name
        if not path.exists():
            heads[kind] = None
            continue
        con = duckdb.connect(str(path), read_only=True)
        try:
            heads[kind] = publication_head(con) or head(con)
        finally:
            con.close()
    return heads


def check_snapshots(live_head: tuple[int, str], heads: dict[str, tuple[int, str] | None]) -> Iterator[Check]:
    for kind, snap in heads.items():
        name = f"{kind} snapshot"
        if snap is None:
            yield Check(
                "snapshots", name, PROBLEM, "not published: readers have nothing to read", "run `suptech run`"
            )
        elif snap == live_head:
            yield Check("snapshots", name, OK, f"up to date (audit head seq {snap[0]})")
        else:
            yield Check(
                "snapshots",
                name,
                PROBLEM,
                f"stale: published at audit seq {snap[0]}, the warehouse is at seq {live_head[0]}",
                "run `suptech run` to publish the warehouse's current state",
            )


def check_warehouse(home: Home, timeout_s: float) -> Iterator[Check]:
    from pipelines.intake.audit import head
    from pipelines.warehouse import migrations
    from pipelines.warehouse.db import WarehouseBusy, writer_lock

    if not home.warehouse.exists():
        yield Check(
            "warehouse", "warehouse", INFO, f"no warehouse yet at {home.warehouse}", "run `suptech run`"
        )
        return
    try:
        with writer_lock(home, timeout_s=timeout_s):
            heads = _snapshot_heads(home)
            con = duckdb.connect(str(home.warehouse), read_only=True)
            try:
                checks = list(_warehouse_checks(home, con, heads))
                live = head(con) if migrations.current_version(con) is not None else (0, "")
            finally:
                con.close()
    except WarehouseBusy:
        yield Check(
            "warehouse",
            "warehouse",
            WARNING,
            f"a cycle held the warehouse for more than {timeout_s:g} s: warehouse checks skipped",
            "run `suptech doctor` again when the cycle has finished (or give --timeout)",
        )
        return
    yield from checks
    yield from check_snapshots(live, heads)


def _warehouse_checks(
    home: Home, con: duckdb.DuckDBPyConnection, heads: dict[str, tuple[int, str] | None]
) -> Iterator[Check]:
    from pipelines.warehouse import migrations

    version = migrations.current_version(con)
    latest = migrations.latest()
    if version is None:
        yield Check("warehouse", "schema version", INFO, "empty warehouse file", "run `suptech run`")
        return
    if version > latest:
        yield Check(
            "warehouse",
            "schema version",
            PROBLEM,
            f"version {version}, newer than this project's {latest}",
            "upgrade the project (update the checkout, then `uv sync`)",
        )
        return
    if version < latest:
        yield Check(
            "warehouse",
            "schema version",
            WARNING,
            f"version {version}; this project is at {latest}: the next `suptech run` upgrades it in place",
            "back up first (`suptech backup DIR`)",
        )
    else:
        yield Check("warehouse", "schema version", OK, f"version {version}")
    published = heads.get("auditor") or heads.get("analyst")
    yield from check_row_counts(con)
    yield from check_stuck(con, published[0] if published else None)
    yield from check_audit(home, con, published)
    yield from check_archive(home, con)


# --- landing and archive --------------------------------------------------------------------------------


def resolve_archive_path(home: Home, stored: str) -> Path:
    """A recorded archive path in this home. Relative paths are under the home; an absolute one (as this
    version's intake records them) is taken at its place under this home's archive/, so a home that was
    moved, copied or restored elsewhere is checked against its own archive, not the old location."""
    p = Path(stored)
    if not p.is_absolute():
        return home.root / p
    if "archive" not in p.parts:
        return p
    i = len(p.parts) - 1 - p.parts[::-1].index("archive")
    return home.archive.joinpath(*p.parts[i + 1 :])


def check_archive(home: Home, con: duckdb.DuckDBPyConnection) -> Iterator[Check]:
    rows = con.execute(
        "select submission_id, delivery_n, archive_path from intake.deliveries order by 1, 2"
    ).fetchall()
    missing = [
        f"{sid} delivery {n} ({path})"
        for sid, n, path in rows
        if not resolve_archive_path(home, path).is_dir()
    ]
    if missing:
        yield Check(
            "archive",
            "archive folders",
            PROBLEM,
            f"{len(missing)} of {len(rows)} deliveries have no archive folder: {_listed(missing)}",
            "restore the folders from the last backup (`suptech restore DIR --home <scratch>` and copy "
            "archive/<enterprise>/<submission>/<delivery> back); delivered bytes must be kept",
        )
    else:
        yield Check("archive", "archive folders", OK, f"all {len(rows)} deliveries archived")


def check_landing(home: Home, now: datetime) -> Iterator[Check]:
    from pipelines.calendar import manifest_grace_seconds
    from pipelines.intake.manifest import MANIFEST_NAME, ManifestError, parse_manifest, read_manifest_bytes

    if not home.landing.is_dir():
        yield Check("landing", "landing area", INFO, f"no landing folder at {home.landing}")
        return
    grace = manifest_grace_seconds()
    waiting: list[str] = []
    for ent in sorted(p for p in home.landing.iterdir() if p.is_dir()):
        for folder in sorted(p for p in ent.iterdir() if p.is_dir()):
            rel = folder.relative_to(home.landing).as_posix()
            mpath = folder / MANIFEST_NAME
            if not os.path.lexists(mpath):
                waiting.append(f"{rel}: no {MANIFEST_NAME} yet (upload incomplete; taken in once it arrives)")
                continue
            age = (now - datetime.fromtimestamp(mpath.lstat().st_mtime, tz=UTC)).total_seconds()
            try:
                parse_manifest(read_manifest_bytes(mpath))
            except ManifestError as exc:
                if exc.rule_id == "S001" and age < grace:
                    waiting.append(
                        f"{rel}: manifest unreadable, within the {grace} s grace period (still written?)"
                    )
                else:
                    waiting.append(
                        f"{rel}: manifest invalid ({exc.rule_id}): the next cycle records it MALFORMED"
                    )
                continue
            waiting.append(f"{rel}: complete, taken in by the next cycle")
    if waiting:
        yield Check(
            "landing",
            "packages waiting",
            INFO,
            f"{len(waiting)} package folders: {_listed(waiting)}",
            "run `suptech run` to take in the complete ones",
        )
    else:
        yield Check("landing", "packages waiting", OK, "landing area empty")


def diagnose(home: Home, *, timeout_s: float = 30.0, now: datetime | None = None) -> Diagnosis:
    now = now or datetime.now(UTC)
    checks = [*check_environment(), *check_warehouse(home, timeout_s), *check_landing(home, now)]
    return Diagnosis(home.root, checks)
