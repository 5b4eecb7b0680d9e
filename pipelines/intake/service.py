"""Taking packages in: verify (S rules), load raw.* in one transaction per submission, archive.

Nothing from a MALFORMED package reaches raw.*; every delivery, whatever its outcome, is moved to
archive/<enterprise_id>/<submission_id>/<n>/ with its bytes unchanged (paths stored relative to the home).
A delivery that cannot claim a submission id of its own enterprise (folder, enterprise folder and manifest
disagree; a link or a loose file in the landing area) is refused under a quarantine id
<enterprise folder>~<name>~<n> (landing~<name>~<n> in landing/ itself) and archived under
archive/<enterprise folder>/_refused/<name>/<n>/ (archive/_landing/<name>/<n>/). No delivery stops a cycle:
any error while taking one in becomes that delivery's status.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.calendar import due_at, ent_type_of, manifest_grace_seconds
from pipelines.contracts import load_contracts
from pipelines.home import Home
from pipelines.intake import audit, lifecycle, syntax
from pipelines.intake.package import (
    SUBMISSION_ID,
    Fingerprint,
    Package,
    actual_hashes,
    discover,
    entry_identity,
    fingerprints,
    package_identity,
    safe_path,
)
from pipelines.intake.problems import Problem, printable, problem
from pipelines.intake.readers import FileProblem, StagedFile, sha256_file, stage_file
from pipelines.intake.values import insert_raw
from pipelines.quality.findings import Finding, RuleResult, record_findings, record_rule_results
from pipelines.quality.rules import syntax_rules
from pipelines.warehouse.db import fetch_one

Progress = Callable[[str, int, int], None]


def intake_memory_limit() -> str:
    """DuckDB's memory cap during intake: $SUPTECH_INTAKE_MEMORY_LIMIT, default 1500MB (P7 asks <= 4 GB peak).
    Decided with the writer's other DuckDB settings in pipelines/warehouse/settings.py."""
    from pipelines.warehouse.settings import intake_memory_limit as configured

    return configured()


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
    before = fetch_one(con, "select current_setting('memory_limit')")[0]
    con.execute(f"set memory_limit = '{intake_memory_limit()}'")
    try:
        yield
    finally:
        con.execute("reset memory_limit")  # the default, exactly (a set from its rounded text drifts)
        if fetch_one(con, "select current_setting('memory_limit')")[0] != before:
            con.execute(f"set memory_limit = '{before}'")


def _record_delivery(
    con: duckdb.DuckDBPyConnection,
    home: Home,
    sid: str,
    n: int,
    identity: str,
    received_at: datetime,
    outcome: str,
    archive_path: Path,
) -> None:
    con.execute(
        "insert into intake.deliveries values (?, ?, ?, ?, ?, ?)",
        [sid, n, identity, received_at, outcome, _rel(home, archive_path)],
    )


def _summary(problems: list[Problem]) -> str:
    first = problems[0]
    where = f"{first.filing_type}: " if first.filing_type else ""
    row = f" (row {first.row_number})" if first.row_number else ""
    more = f"; and {len(problems) - 1} more problem(s) in the edit report" if len(problems) > 1 else ""
    return printable(f"{first.rule_id} {where}{first.message}{row}{more}")


def _next_version(
    con: duckdb.DuckDBPyConnection, enterprise_id: str | None, period: str | None, sid: str
) -> int:
    """The version to resubmit as: above every version of the enterprise and period received (the
    submission id's own version when its manifest gave no period)."""
    row = fetch_one(
        con,
        "select max(version) from intake.submissions where enterprise_id = ? and period = ?",
        [enterprise_id, period],
    )
    own = int(sid.rsplit("-v", 1)[1]) if SUBMISSION_ID.match(sid) else 0
    return max(row[0] or 0, own) + 1


def _verify_files(
    con: duckdb.DuckDBPyConnection, home: Home, pkg: Package, file_problems: list[Problem]
) -> tuple[list[Problem], dict[str, StagedFile]]:
    """Stage and syntax-check each file that is present and intact (no problem of the listed-file checks,
    syntax.check_files). Returns problems and staged files."""
    m = pkg.manifest
    assert m is not None
    contracts = load_contracts()
    broken = {p.filing_type for p in file_problems}
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
        problems += syntax.check_staged(syntax.StagedCheck(con, table, sf.rows, contracts[f.filing_type], f))
    return problems, staged


def _drop(con: duckdb.DuckDBPyConnection, staged: dict[str, StagedFile]) -> None:
    for sf in staged.values():
        con.execute(f"drop table if exists {sf.table}")


def take_in_package(
    con: duckdb.DuckDBPyConnection, home: Home, pkg: Package, *, clock: datetime, backfill: bool
) -> IntakeOutcome:
    """Decide one delivery and archive it. Nothing a delivery holds (names, bytes, manifest values) raises
    out of here: an unexpected error is rolled back and becomes the delivery's MALFORMED status, with its
    bytes archived, so the cycle goes on with the others."""
    try:
        return _take_in_package(con, home, pkg, clock=clock, backfill=backfill)
    except Exception as exc:  # any bytes at all must end as a status, never as a failed cycle
        _rollback(con)
        return _refuse_after_error(con, home, pkg, exc, clock=clock, backfill=backfill)


def _times(pkg: Package, clock: datetime, backfill: bool) -> tuple[datetime, datetime]:
    received_at = pkg.manifest_mtime if backfill else clock
    return received_at, (received_at if backfill else max(clock, received_at))


def _take_in_package(
    con: duckdb.DuckDBPyConnection, home: Home, pkg: Package, *, clock: datetime, backfill: bool
) -> IntakeOutcome:
    received_at, decided_at = _times(pkg, clock, backfill)
    if pkg.refusal is not None:
        return _refuse(con, home, pkg, [pkg.refusal], entry_identity(pkg), {}, {}, received_at, decided_at)
    before = fingerprints(pkg.folder, pkg)
    hashes = actual_hashes(pkg)
    identity = package_identity(pkg, hashes)
    sid = own_submission_id(pkg)
    if sid is None:  # folder, enterprise folder and manifest disagree: claims no submission id
        problems: list[Problem] = (
            [Problem(pkg.manifest_problem.rule_id, str(pkg.manifest_problem))] if pkg.manifest_problem else []
        )
        problems += syntax.package_identity(pkg) if pkg.manifest else []
        if not problems:
            problems = [_misplaced(pkg)]
        return _refuse(con, home, pkg, problems, identity, hashes, before, received_at, decided_at)

    m = pkg.manifest
    existing = con.execute(
        "select identity, enterprise_id, period from intake.submissions where submission_id = ?", [sid]
    ).fetchone()
    n = 1 + fetch_one(con, "select count(*) from intake.deliveries where submission_id = ?", [sid])[0]
    unarchived = _unarchived_delivery(con, home, sid, identity)
    if unarchived is not None:
        return _finish_archive(con, home, pkg, sid, unarchived, clock)
    archive_path = _free(home.archive / pkg.enterprise_dir / sid / str(n))
    if existing is not None:
        return _redelivery(con, home, pkg, sid, n, identity, existing, received_at, decided_at, archive_path)

    problems = []
    file_problems: list[Problem] = []
    staged: dict[str, StagedFile] = {}
    period = None
    if pkg.manifest_problem is not None:
        problems.append(Problem(pkg.manifest_problem.rule_id, str(pkg.manifest_problem)))
    else:
        assert m is not None
        bad_period = syntax.period_in_calendar(m, clock)
        problems += bad_period
        if not bad_period:
            period = m.period
            problems += syntax.version_ordering(con, pkg)
        problems += syntax.filing_types_listed_once(m)
        file_problems, unlisted = syntax.check_files(pkg, hashes)
        problems += file_problems + unlisted
    try:
        if m is not None:
            staged_problems, staged = _verify_files(con, home, pkg, file_problems)
            problems += staged_problems
        changed, before = _changed_while_read(pkg, before, hashes)
        problems += changed
        if changed:
            identity = package_identity(pkg, hashes)
        status = lifecycle.MALFORMED if problems else lifecycle.RECEIVED
        ent = m.enterprise_id if m else pkg.enterprise_dir
        with lifecycle.transaction(con):
            _insert_submission(
                con,
                home,
                sid,
                pkg,
                ent,
                period,
                identity,
                status,
                problems,
                received_at,
                decided_at,
                archive_path,
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
                _load(con, sid, staged, decided_at)
            _record_delivery(con, home, sid, n, identity, received_at, status, archive_path)
    finally:
        _drop(con, staged)
    _crash_window(sid, "committed")
    reason = _summary(problems) if problems else "loaded"
    return _archive_and_verify(
        con, home, pkg, sid, n, status, reason, hashes, before, archive_path, received_at, decided_at
    )


def _load(con: duckdb.DuckDBPyConnection, sid: str, staged: dict[str, StagedFile], at: datetime) -> None:
    audit.append(con, "verified", sid, at, {"files": len(staged), "syntax": "passed"})
    contracts = load_contracts()
    for ft, sf in staged.items():
        insert_raw(con, sf.table, contracts[ft], sid)
        _crash_window(sid)
    # the staged tables hold exactly the rows just appended
    audit.append(con, "loaded", sid, at, {"rows": {ft: sf.rows for ft, sf in staged.items()}})


def _insert_submission(
    con: duckdb.DuckDBPyConnection,
    home: Home,
    sid: str,
    pkg: Package,
    ent: str | None,
    period: str | None,
    identity: str,
    status: str,
    problems: list[Problem],
    received_at: datetime,
    decided_at: datetime,
    archive_path: Path,
) -> None:
    """The submission's row. Its period (and due time) only when it is a filing period: a refused
    delivery without one belongs to no enterprise x period."""
    m = pkg.manifest
    ent_type = ent_type_of(ent or "")
    con.execute(
        """insert into intake.submissions (submission_id, enterprise_id, ent_type, period, version, supersedes,
               spec_version, submitted_at, received_at, due_at, identity, status, status_reason, status_at,
               archive_path, manifest)
           values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            sid,
            ent,
            ent_type,
            period,
            m.version if m and period else None,
            m.supersedes if m and period else None,
            m.spec_version if m else None,
            m.submitted_at if m else None,
            received_at,
            due_at(ent_type, period) if period else None,
            identity,
            status,
            _summary(problems) if problems else "verified; awaiting validity checks",
            decided_at,
            _rel(home, archive_path),
            json.dumps(m.raw) if m else None,
        ],
    )


def own_submission_id(pkg: Package) -> str | None:
    """The submission id this delivery is recorded under: its folder's name, when that is a submission id
    of the enterprise folder it was delivered in and the manifest (if readable) agrees (S004). Otherwise
    None: the delivery is refused under an id of its own and claims no submission id (another
    enterprise's)."""
    if pkg.refusal is not None or pkg.landing_level:
        return None
    m = SUBMISSION_ID.match(pkg.folder_id)
    if m is None or m.group(1) != pkg.enterprise_dir:
        return None
    if pkg.manifest is not None and syntax.package_identity(pkg):
        return None
    return pkg.folder_id


def _misplaced(pkg: Package) -> Problem:
    return problem(
        "misplaced",
        f"{pkg.where}: the folder must be named <enterprise_id>-<period>-v<version> after the submission "
        f"and sit in its enterprise's landing folder (this one is {printable(pkg.enterprise_dir)!r}): "
        "deliver it as landing/<enterprise_id>/<submission_id>/",
    )


def _refuse(
    con: duckdb.DuckDBPyConnection,
    home: Home,
    pkg: Package,
    problems: list[Problem],
    identity: str,
    hashes: dict[str, str],
    before: dict[str, Fingerprint],
    received_at: datetime,
    decided_at: datetime,
) -> IntakeOutcome:
    """A delivery that cannot be recorded under a submission id of its own enterprise (a link, a loose file,
    a folder whose name, enterprise folder and manifest disagree): MALFORMED under a quarantine id unique to
    the delivery (<enterprise folder>~<name>~<n>), archived under archive/<enterprise folder>/_refused/, so
    every submission id it names stays free for its owner."""
    base = _quarantine_base(pkg)
    unarchived = _unarchived_delivery(con, home, base, identity, prefix=True)
    if unarchived is not None:
        return _finish_archive(con, home, pkg, unarchived[-1], unarchived[:-1], decided_at)
    qid, n = _quarantine_id(con, base)
    archive_path = _free(_quarantine_target(home, pkg, n))
    problems = [replace(problems[0], message=f"{pkg.where}: {problems[0].message}"), *problems[1:]]
    with lifecycle.transaction(con):
        ent = printable(pkg.enterprise_dir) or None
        _insert_submission(
            con,
            home,
            qid,
            pkg,
            ent,
            None,
            identity,
            lifecycle.MALFORMED,
            problems,
            received_at,
            decided_at,
            archive_path,
        )
        details = {"delivery_n": n, "identity": identity, "delivered_as": pkg.where}
        lifecycle.record_event(con, qid, lifecycle.RECEIVED, received_at, "delivery complete", details)
        if pkg.manifest:
            _record_files(con, qid, pkg, hashes)
        _record_syntax_results(con, qid, 1, problems, decided_at)
        lifecycle.record_event(con, qid, lifecycle.MALFORMED, decided_at, _summary(problems))
        _record_delivery(con, home, qid, 1, identity, received_at, lifecycle.MALFORMED, archive_path)
    _crash_window(qid, "committed")
    return _archive_and_verify(
        con, home, pkg, qid, 1, lifecycle.MALFORMED, _summary(problems), hashes, before, archive_path,
        received_at, decided_at,
    )  # fmt: skip


def _refuse_after_error(
    con: duckdb.DuckDBPyConnection,
    home: Home,
    pkg: Package,
    exc: Exception,
    *,
    clock: datetime,
    backfill: bool,
) -> IntakeOutcome:
    """An unexpected error while taking in `pkg` (rolled back): the delivery is MALFORMED with the error
    named, under a quarantine id, and archived as delivered."""
    received_at, decided_at = _times(pkg, clock, backfill)
    message = printable(str(exc))[:200]
    failure = problem(
        "intake_error",
        f"the intake could not process this delivery ({type(exc).__name__}: {message}); it is kept in the "
        "archive as delivered: report it to the warehouse operators with this message",
    )
    try:
        identity = entry_identity(pkg) if pkg.refusal or not pkg.manifest_bytes else package_identity(pkg, {})
    except OSError:
        identity = hashlib.sha256(printable(pkg.where).encode()).hexdigest()
    return _refuse(con, home, pkg, [failure], identity, {}, {}, received_at, decided_at)


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back a transaction left open by an error (none open is fine)."""
    try:
        con.execute("rollback")
    except duckdb.Error:
        pass


def _clip_bytes(text: str, limit: int) -> str:
    """At most `limit` UTF-8 bytes of text, cut at a character boundary (ids become file names)."""
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


def _quarantine_base(pkg: Package) -> str:
    name = _clip_bytes(printable(pkg.folder_id), 80)
    return (
        f"{_clip_bytes(printable(pkg.enterprise_dir), 40)}~{name}"
        if pkg.enterprise_dir
        else f"landing~{name}"
    )


def _quarantine_id(con: duckdb.DuckDBPyConnection, base: str) -> tuple[str, int]:
    """<base>~<n>, n counting this delivery place's refused deliveries; never an id already used."""
    (taken,) = fetch_one(
        con, "select count(*) from intake.deliveries where starts_with(submission_id, ?)", [base + "~"]
    )
    n = taken + 1
    used = "select count(*) from intake.submissions where submission_id = ?"
    while fetch_one(con, used, [f"{base}~{n}"])[0]:
        n += 1
    return f"{base}~{n}", n


def _quarantine_target(home: Home, pkg: Package, n: int) -> Path:
    name = _clip_bytes(printable(pkg.folder_id), 120)
    if pkg.landing_level:
        return home.archive / "_landing" / name / str(n)
    return home.archive / _clip_bytes(printable(pkg.enterprise_dir), 120) / "_refused" / name / str(n)


def _free(target: Path) -> Path:
    """target, or target+ (+...) when it exists: an archive folder is never overwritten."""
    while os.path.lexists(target):
        target = target.with_name(target.name + "+")
    return target


def _rel(home: Home, path: Path) -> str:
    """An archive path as stored: relative to the home (archive/...), so a moved or restored home works."""
    return path.relative_to(home.root).as_posix()


def archive_location(home: Home, stored: str) -> Path:
    """A stored archive path resolved against the home (absolute ones, from before, are kept as they are)."""
    return home.root / stored


def _changed_while_read(
    pkg: Package, before: dict[str, Fingerprint], hashes: dict[str, str]
) -> tuple[list[Problem], dict[str, Fingerprint]]:
    """Listed files written to since they were hashed (size, times or inode moved): S009 each, and their
    hashes taken again so intake.files describes the bytes that will be archived. Returns the problems and
    the fingerprints the archived files must still have."""
    now = fingerprints(pkg.folder, pkg)
    changed = sorted(p for p in before.keys() | now.keys() if before.get(p) != now.get(p))
    problems = []
    for rel in changed:
        path = safe_path(pkg.folder, rel)
        if path is not None and path.is_file() and not path.is_symlink():
            hashes[rel] = sha256_file(path)
        else:
            hashes.pop(rel, None)
        problems.append(_changed_problem(pkg, rel))
    return problems, now


def _changed_problem(pkg: Package, rel: str) -> Problem:
    ft = next((f.filing_type for f in pkg.manifest.files if f.path == rel), None) if pkg.manifest else None
    return problem(
        "changed_while_read",
        f"{rel}: changed while being read (its size or modification time moved between the checksum and the "
        "load): write every file completely before manifest.json, then leave the package untouched",
        ft,
    )


def _archive_and_verify(
    con: duckdb.DuckDBPyConnection,
    home: Home,
    pkg: Package,
    sid: str,
    n: int,
    status: str,
    reason: str,
    hashes: dict[str, str],
    before: dict[str, Fingerprint],
    archive_path: Path,
    received_at: datetime,
    decided_at: datetime,
) -> IntakeOutcome:
    """Move the committed delivery to the archive, then check that the archived files are the bytes that
    were hashed and loaded: any file written to in between makes the delivery MALFORMED (S009)."""
    try:
        archive_path = _archive(pkg.folder, archive_path)
    except OSError as exc:  # recorded: the next cycle finds the archive missing and completes the move
        reason = f"{reason}; the move to the archive failed ({printable(str(exc))[:200]}), retried next cycle"
        return IntakeOutcome(sid, status, reason, archive_path, received_at)
    try:
        mismatched = _archived_mismatches(pkg, before, hashes, archive_path)
        if mismatched:
            reason = _changed_after_commit(
                con, home, pkg, sid, n, status, mismatched, archive_path, decided_at
            )
            status = lifecycle.MALFORMED
    except Exception as exc:  # committed and archived: never a second record for this delivery
        _rollback(con)
        reason = f"{reason}; the archived bytes could not be verified ({type(exc).__name__}: {printable(str(exc))[:200]})"
    return IntakeOutcome(sid, status, reason, archive_path, received_at)


def _archived_mismatches(
    pkg: Package, before: dict[str, Fingerprint], hashes: dict[str, str], archive_path: Path
) -> dict[str, str | None]:
    """Listed files whose archived bytes are not the bytes hashed (and loaded): their archived SHA-256
    (None when no regular file is there). Only files whose fingerprint moved are hashed again."""
    after = fingerprints(archive_path, pkg)
    mismatched = {}
    for rel in sorted(p for p in before if before[p] != after.get(p)):
        path = safe_path(archive_path, rel)
        sha = sha256_file(path) if path is not None and path.is_file() and not path.is_symlink() else None
        if sha != hashes.get(rel):
            mismatched[rel] = sha
    return mismatched


def _changed_after_commit(
    con: duckdb.DuckDBPyConnection,
    home: Home,
    pkg: Package,
    sid: str,
    n: int,
    status: str,
    mismatched: dict[str, str | None],
    archive_path: Path,
    at: datetime,
) -> str:
    """Files written to after their delivery was committed: the delivery becomes MALFORMED (its rows are
    removed), intake.files takes the archived bytes' SHA-256 and an S009 finding says which file changed."""
    problems = [_changed_problem(pkg, rel) for rel in mismatched]
    reason = _summary(problems)
    with lifecycle.transaction(con):
        for rel, sha in mismatched.items():
            path = safe_path(archive_path, rel)
            size = path.stat().st_size if sha is not None and path is not None else None
            con.execute(
                "update intake.files set sha256 = ?, bytes = ? where submission_id = ? and path = ?",
                [sha, size, sid, rel],
            )
        findings = [Finding(sid, p.rule_id, p.message, p.filing_type) for p in problems]
        record_findings(con, findings, found_at=at, attempt=n)
        con.execute(
            "update quality.rule_results set status = 'FAIL', finding_count = finding_count + ? "
            "where submission_id = ? and attempt = ? and rule_id = ?",
            [len(problems), sid, n, problems[0].rule_id],
        )
        if status == lifecycle.RECEIVED:
            for ft in load_contracts():
                con.execute(f"delete from raw.{ft} where submission_id = ?", [sid])
        if status != lifecycle.MALFORMED:
            lifecycle.set_status(con, sid, lifecycle.MALFORMED, at, reason)
            con.execute(
                "update intake.deliveries set outcome = ? where submission_id = ? and delivery_n = ?",
                [lifecycle.MALFORMED, sid, n],
            )
    return reason


def _unarchived_delivery(
    con: duckdb.DuckDBPyConnection, home: Home, sid: str, identity: str, *, prefix: bool = False
) -> tuple[int, str, datetime, str, str] | None:
    """The last delivery of `sid` if it has these bytes and its archive folder was never written: an
    intake killed between its commit and the move to archive/ (the move is a rename, so all or nothing).
    With `prefix`: any refused delivery with these bytes recorded under a quarantine id `sid~<n>`.
    Returns (n, outcome, received_at, archive_path, submission_id)."""
    if prefix:
        rows = con.execute(
            "select delivery_n, outcome, received_at, archive_path, identity, submission_id "
            "from intake.deliveries where starts_with(submission_id, ?) and identity = ? order by submission_id",
            [sid + "~", identity],
        ).fetchall()
    else:
        rows = con.execute(
            "select delivery_n, outcome, received_at, archive_path, identity, submission_id "
            "from intake.deliveries where submission_id = ? order by delivery_n desc limit 1",
            [sid],
        ).fetchall()
    for n, outcome, received_at, archive_path, recorded, recorded_id in rows:
        if recorded == identity and not os.path.lexists(archive_location(home, archive_path)):
            return n, outcome, received_at, archive_path, recorded_id
    return None


def _finish_archive(
    con: duckdb.DuckDBPyConnection,
    home: Home,
    pkg: Package,
    sid: str,
    delivery: tuple,
    clock: datetime,
) -> IntakeOutcome:
    """Complete the interrupted archive of an already committed delivery: no new delivery, no event.
    The audit entry is committed before the move, so no move goes unrecorded (a crash in between
    leaves the archive missing and the next run records and retries it)."""
    n, outcome, received_at, archive_path = delivery[:4]
    detail = {"delivery_n": n, "archive_path": archive_path, "outcome": outcome}
    audit.append(con, "archive_recovered", sid, clock, detail)  # one insert: atomic
    target = _archive(pkg.folder, archive_location(home, archive_path))
    reason = f"archive of delivery {n} completed after an interrupted intake"
    return IntakeOutcome(sid, outcome, reason, target, received_at)


def _redelivery(
    con, home, pkg, sid, n, identity, existing, received_at, decided_at, archive_path
) -> IntakeOutcome:
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
            reason = f"submission_id already used; resubmit as v{_next_version(con, ent, period, sid)}"
            reused = problem("id_reused", reason)
            record_findings(con, [Finding(sid, reused.rule_id, reason)], found_at=decided_at, attempt=n)
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
        _record_delivery(con, home, sid, n, identity, received_at, outcome, archive_path)
    try:
        archive_path = _archive(pkg.folder, archive_path)
    except OSError as exc:
        reason = f"{reason}; the move to the archive failed ({printable(str(exc))[:200]}), retried next cycle"
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
        Finding(sid, p.rule_id, printable(p.message), p.filing_type, p.row_number, None, tuple(p.fields))
        for p in problems
    ]
    record_findings(con, findings, found_at=at, attempt=attempt)
    s_rules = [r.rule_id for r in syntax_rules()]
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


def _archive(folder: Path, target: Path) -> Path:
    """Move the delivery (a folder, file or link: links are moved, never followed), bytes unchanged; if
    the target exists, keep both (never overwrite). Returns where it went."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target = _free(target)
    try:
        os.rename(folder, target)
    except OSError:
        shutil.move(str(folder), str(target))
    return target
