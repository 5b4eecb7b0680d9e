"""Taking packages in: verify (S rules), load raw.* in one transaction per submission, archive.

Nothing from a MALFORMED package reaches raw.*; every package, whatever its outcome, is moved to
archive/<enterprise_id>/<submission_id>/<n>/ with its bytes unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.calendar import due_at, ent_type_of, manifest_grace_seconds
from pipelines.contracts import load_contracts
from pipelines.home import Home
from pipelines.intake import audit, lifecycle
from pipelines.intake.package import (
    Package,
    Problem,
    actual_hashes,
    check_files,
    check_filing_types,
    check_identity,
    discover,
    package_identity,
    safe_path,
)
from pipelines.intake.readers import FileProblem, StagedFile, stage_file
from pipelines.intake.values import check_values, insert_raw
from pipelines.quality.catalog import load_catalog
from pipelines.quality.findings import Finding, RuleResult, record_findings, record_rule_results

Progress = Callable[[str, int, int], None]

INTAKE_MEMORY_LIMIT = "1500MB"


def intake_memory_limit() -> str:
    """DuckDB's memory cap during intake: $SUPTECH_INTAKE_MEMORY_LIMIT, default 1500MB (P7 asks <= 4 GB peak)."""
    return os.environ.get("SUPTECH_INTAKE_MEMORY_LIMIT", INTAKE_MEMORY_LIMIT)


@dataclass(frozen=True)
class IntakeOutcome:
    submission_id: str
    status: str
    reason: str
    archive_path: Path
    received_at: datetime


def take_in(
    con: duckdb.DuckDBPyConnection,
    home: Home,
    *,
    clock: datetime,
    backfill: bool = False,
    progress: Progress | None = None,
) -> list[IntakeOutcome]:
    """Process every complete package in the landing area, oldest first."""
    packages = discover(home.landing, clock, manifest_grace_seconds())
    outcomes = []
    with bounded_memory(con):
        for i, pkg in enumerate(packages):
            if progress:
                progress(f"intake {pkg.folder_id}", i, len(packages))
            outcomes.append(take_in_package(con, home, pkg, clock=clock, backfill=backfill))
    if progress:
        progress("intake", len(packages), len(packages))
    return outcomes


@contextmanager
def bounded_memory(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Cap DuckDB's memory while files are staged and loaded: beyond the cap it spills to its temp
    directory, so a 10 GB file is taken in within a few GB (targets.md P7). The previous limit is restored."""
    before = con.execute("select current_setting('memory_limit')").fetchone()[0]
    con.execute(f"set memory_limit = '{intake_memory_limit()}'")
    try:
        yield
    finally:
        con.execute("reset memory_limit")  # the default, exactly (a set from its rounded text drifts)
        if con.execute("select current_setting('memory_limit')").fetchone()[0] != before:
            con.execute(f"set memory_limit = '{before}'")


def _record_delivery(
    con: duckdb.DuckDBPyConnection,
    sid: str,
    n: int,
    identity: str,
    received_at: datetime,
    outcome: str,
    archive_path: Path,
) -> None:
    con.execute(
        "insert into intake.deliveries values (?, ?, ?, ?, ?, ?)",
        [sid, n, identity, received_at, outcome, str(archive_path)],
    )


def _summary(problems: list[Problem]) -> str:
    first = problems[0]
    where = f"{first.filing_type}: " if first.filing_type else ""
    row = f" (row {first.row_number})" if first.row_number else ""
    more = f"; and {len(problems) - 1} more problem(s) in the edit report" if len(problems) > 1 else ""
    return f"{first.rule_id} {where}{first.message}{row}{more}"


def _next_version(con: duckdb.DuckDBPyConnection, enterprise_id: str | None, period: str | None) -> int:
    row = con.execute(
        "select max(version) from intake.submissions where enterprise_id = ? and period = ?",
        [enterprise_id, period],
    ).fetchone()
    return (row[0] or 0) + 1


def _check_versions(con: duckdb.DuckDBPyConnection, pkg: Package) -> list[Problem]:
    m = pkg.manifest
    assert m is not None
    prior = con.execute(
        "select submission_id, version from intake.submissions where enterprise_id = ? and period = ? "
        "and submission_id <> ? and version is not null order by version desc limit 1",
        [m.enterprise_id, m.period, pkg.folder_id],
    ).fetchone()
    if prior is None:
        if m.supersedes is not None:
            return [
                Problem(
                    "S005",
                    f"supersedes names {m.supersedes} but no earlier version of {m.enterprise_id} "
                    f"{m.period} was received: set supersedes to null",
                )
            ]
        return []
    prior_id, prior_version = prior
    problems = []
    if m.version <= prior_version:
        problems.append(
            Problem(
                "S005",
                f"version {m.version} is not higher than v{prior_version} already received: "
                f"resubmit as v{prior_version + 1}",
            )
        )
    if m.supersedes != prior_id:
        problems.append(
            Problem(
                "S005",
                f"supersedes is {m.supersedes!r} but the highest version received is "
                f"{prior_id}: set supersedes to {prior_id!r}",
            )
        )
    return problems


def _verify_files(
    con: duckdb.DuckDBPyConnection, home: Home, pkg: Package, checked: list[Problem]
) -> tuple[list[Problem], dict[str, StagedFile]]:
    """Stage and syntax-check each file that is present and intact. Returns problems and staged files."""
    m = pkg.manifest
    assert m is not None
    contracts = load_contracts()
    broken = {p.filing_type for p in checked if p.rule_id in ("S007", "S009", "S012", "S013")}
    problems: list[Problem] = []
    staged: dict[str, StagedFile] = {}
    home.tmp.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(m.files):
        if f.filing_type in broken or f.filing_type not in contracts:
            continue
        path = safe_path(pkg.folder, f.path)
        if path is None or not path.is_file():
            continue
        table = f"stg_{i}_{f.filing_type}"
        try:
            sf = stage_file(con, path, f, contracts[f.filing_type], table, home.tmp)
        except FileProblem as exc:
            problems.append(Problem(exc.rule_id, f"{f.path}: {exc}", f.filing_type, exc.row_number))
            continue
        staged[f.filing_type] = sf
        for vp in check_values(con, table, sf.rows, contracts[f.filing_type], f):
            fields = [(vp.field, vp.value)] if vp.field else []
            problems.append(
                Problem(vp.rule_id, f"{f.path}: {vp.message}", f.filing_type, vp.row_number, fields)
            )
    return problems, staged


def _drop(con: duckdb.DuckDBPyConnection, staged: dict[str, StagedFile]) -> None:
    for sf in staged.values():
        con.execute(f"drop table if exists {sf.table}")


def take_in_package(
    con: duckdb.DuckDBPyConnection, home: Home, pkg: Package, *, clock: datetime, backfill: bool
) -> IntakeOutcome:
    received_at = pkg.manifest_mtime if backfill else clock
    decided_at = received_at if backfill else max(clock, received_at)
    sid = pkg.folder_id
    hashes = actual_hashes(pkg)
    identity = package_identity(pkg, hashes)
    m = pkg.manifest
    existing = con.execute(
        "select identity, enterprise_id, period from intake.submissions where submission_id = ?", [sid]
    ).fetchone()
    n = 1 + con.execute("select count(*) from intake.deliveries where submission_id = ?", [sid]).fetchone()[0]
    archive_path = home.archive / pkg.enterprise_dir / sid / str(n)

    unarchived = _unarchived_delivery(con, sid, identity)
    if unarchived is not None:
        return _finish_archive(con, pkg, sid, unarchived, clock)
    if existing is not None:
        return _redelivery(con, pkg, sid, n, identity, existing, received_at, decided_at, archive_path)

    problems: list[Problem] = []
    staged: dict[str, StagedFile] = {}
    if pkg.manifest_problem is not None:
        problems.append(Problem(pkg.manifest_problem.rule_id, str(pkg.manifest_problem)))
    else:
        assert m is not None
        problems += check_identity(pkg)
        problems += _check_versions(con, pkg)
        problems += check_filing_types(m)
        problems += check_files(pkg, hashes)
        file_problems, staged = _verify_files(con, home, pkg, problems)
        problems += file_problems

    ent = m.enterprise_id if m else pkg.enterprise_dir
    period = m.period if m else None
    status = lifecycle.MALFORMED if problems else lifecycle.RECEIVED
    try:
        with lifecycle.transaction(con):
            con.execute(
                """insert into intake.submissions (submission_id, enterprise_id, ent_type, period, version, supersedes,
                       spec_version, submitted_at, received_at, due_at, identity, status, status_reason, status_at,
                       archive_path, manifest)
                   values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    sid,
                    ent,
                    ent_type_of(ent),
                    period,
                    m.version if m else None,
                    m.supersedes if m else None,
                    m.spec_version if m else None,
                    m.submitted_at if m else None,
                    received_at,
                    due_at(ent_type_of(ent), period) if m else None,
                    identity,
                    status,
                    _summary(problems) if problems else "verified; awaiting validity checks",
                    decided_at,
                    str(archive_path),
                    json.dumps(m.raw) if m else None,
                ],
            )
            lifecycle.record_event(
                con,
                sid,
                lifecycle.RECEIVED,
                received_at,
                "package complete",
                {"delivery_n": n, "identity": identity},
            )
            if m:
                _record_files(con, sid, pkg, hashes)
            _record_syntax_results(con, sid, n, problems, decided_at)
            if problems:
                lifecycle.record_event(con, sid, lifecycle.MALFORMED, decided_at, _summary(problems))
            else:
                audit.append(con, "verified", sid, decided_at, {"files": len(staged), "syntax": "passed"})
                contracts = load_contracts()
                for ft, sf in staged.items():
                    insert_raw(con, sf.table, contracts[ft], sid)
                    _crash_window(sid)
                # the staged tables hold exactly the rows just appended
                audit.append(
                    con, "loaded", sid, decided_at, {"rows": {ft: sf.rows for ft, sf in staged.items()}}
                )
            _record_delivery(con, sid, n, identity, received_at, status, archive_path)
    finally:
        _drop(con, staged)
    _crash_window(sid, "committed")
    _archive(pkg.folder, archive_path)
    return IntakeOutcome(sid, status, _summary(problems) if problems else "loaded", archive_path, received_at)


def _unarchived_delivery(
    con: duckdb.DuckDBPyConnection, sid: str, identity: str
) -> tuple[int, str, datetime, str] | None:
    """The last delivery of `sid` if it has these bytes and its archive folder was never written: an
    intake killed between its commit and the move to archive/ (the move is a rename, so all or nothing)."""
    row = con.execute(
        "select delivery_n, outcome, received_at, archive_path, identity from intake.deliveries "
        "where submission_id = ? order by delivery_n desc limit 1",
        [sid],
    ).fetchone()
    if row is None or row[4] != identity or Path(row[3]).exists():
        return None
    return row[0], row[1], row[2], row[3]


def _finish_archive(
    con: duckdb.DuckDBPyConnection,
    pkg: Package,
    sid: str,
    delivery: tuple[int, str, datetime, str],
    clock: datetime,
) -> IntakeOutcome:
    """Complete the interrupted archive of an already committed delivery: no new delivery, no event.
    The audit entry is committed before the move, so no move goes unrecorded (a crash in between
    leaves the archive missing and the next run records and retries it)."""
    n, outcome, received_at, archive_path = delivery
    detail = {"delivery_n": n, "archive_path": archive_path, "outcome": outcome}
    audit.append(con, "archive_recovered", sid, clock, detail)  # one insert: atomic
    _archive(pkg.folder, Path(archive_path))
    reason = f"archive of delivery {n} completed after an interrupted intake"
    return IntakeOutcome(sid, outcome, reason, Path(archive_path), received_at)


def _redelivery(con, pkg, sid, n, identity, existing, received_at, decided_at, archive_path) -> IntakeOutcome:
    """The same submission_id again: a recorded no-op if the bytes are identical, else MALFORMED."""
    old_identity, ent, period = existing
    with lifecycle.transaction(con):
        if identity == old_identity:
            outcome, reason = (
                lifecycle.DUPLICATE,
                f"identical re-drop of {sid} (delivery {n}): nothing changed",
            )
        else:
            outcome = lifecycle.MALFORMED
            reason = f"submission_id already used; resubmit as v{_next_version(con, ent, period)}"
            record_findings(con, [Finding(sid, "S005", reason)], found_at=decided_at, attempt=n)
        # The event belongs to this delivery; the submission's own status does not change.
        lifecycle.record_event(
            con,
            sid,
            outcome,
            decided_at,
            reason,
            {"delivery_n": n, "identity": identity},
            action="duplicate_redrop" if outcome == lifecycle.DUPLICATE else "conflicting_reuse",
        )
        _record_delivery(con, sid, n, identity, received_at, outcome, archive_path)
    _archive(pkg.folder, archive_path)
    return IntakeOutcome(sid, outcome, reason, archive_path, received_at)


def _record_files(con: duckdb.DuckDBPyConnection, sid: str, pkg: Package, hashes: dict[str, str]) -> None:
    """intake.files in one statement (executemany costs a statement per row); a filing type listed
    twice keeps its last entry, as row-by-row "insert or replace" did."""
    assert pkg.manifest is not None
    contracts = load_contracts()
    rows = {
        f.filing_type: (
            sid,
            f.filing_type,
            f.path,
            f.format,
            f.compression,
            f.encoding,
            hashes.get(f.path),
            _size(pkg.folder, f.path),
            f.row_count,
            json.dumps({k: str(v) for k, v in f.control_totals.items()}),
        )
        for f in pkg.manifest.files
        if f.filing_type in contracts
    }
    if rows:
        values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(rows))
        con.execute(
            f"insert or replace into intake.files values {values}",
            [v for row in rows.values() for v in row],
        )


def _record_syntax_results(con, sid: str, attempt: int, problems: list[Problem], at: datetime) -> None:
    findings = [
        Finding(sid, p.rule_id, p.message, p.filing_type, p.row_number, None, tuple(p.fields))
        for p in problems
    ]
    record_findings(con, findings, found_at=at, attempt=attempt)
    s_rules = [r for r, rule in load_catalog().items() if rule.stage == "S"]
    results = [RuleResult(sid, r, sum(1 for p in problems if p.rule_id == r), attempt) for r in s_rules]
    record_rule_results(con, results, evaluated_at=at)


def _crash_window(submission_id: str, point: str = "loading") -> None:
    """Test hook: with SUPTECH_INTAKE_PAUSE_SID set to this submission and SUPTECH_INTAKE_PAUSE_AT to
    `point` ("loading", the default: rows in raw.* but not committed; "committed": committed, not yet
    archived), write the pid to the file SUPTECH_INTAKE_PAUSE_MARKER and wait, so a test can kill it."""
    if (
        os.environ.get("SUPTECH_INTAKE_PAUSE_SID") == submission_id
        and os.environ.get("SUPTECH_INTAKE_PAUSE_AT", "loading") == point
    ):
        Path(os.environ["SUPTECH_INTAKE_PAUSE_MARKER"]).write_text(str(os.getpid()))
        time.sleep(60)


def _size(folder: Path, rel: str) -> int | None:
    path = safe_path(folder, rel)
    return path.stat().st_size if path is not None and path.is_file() else None


def _archive(folder: Path, target: Path) -> None:
    """Move the package folder, bytes unchanged; if the target exists, keep both (never overwrite)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    while target.exists():
        target = target.with_name(target.name + "+")
    try:
        os.rename(folder, target)
    except OSError:
        shutil.move(str(folder), str(target))
