"""Backup and restore of a SupTech home (R6: a restored warehouse reproduces identical marts).

A backup is a folder: manifest.json (sha256, size, mode and mtime of every file, relative to the home)
and home/ (the files). It holds everything under the home except what a cycle regenerates (EXCLUDED).
The warehouse file is copied with the writer lock held, after a checkpoint, so no cycle writes while it
is read and no WAL is needed. Modes are kept: keys/ (the pseudonym key, a secret) stays 0600 in a 0700
folder, and the backup folder itself is 0700. Paths are relative to the home, so a backup restores into
any folder (a moved home).

Restore verifies every file against the manifest while copying into a staging folder inside the target
home, refuses a target home that holds files (unless force), then moves the folders into place, upgrades
the schema if the backup is older than the code, verifies the audit log against its anchors and
republishes the snapshots and reports.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.home import Home

FORMAT = "suptech-backup/1"
MANIFEST = "manifest.json"
FILES_DIR = "home"
STAGING = ".restore-staging"
CHUNK = 1 << 20

# Top-level folders of the home that are not backed up: outputs a cycle (or restore) regenerates.
EXCLUDED: dict[str, str] = {
    "published": "the analyst and auditor snapshots: republished by restore and by every cycle",
    "reports": "edit, supervision and quality reports and dbt docs: rewritten by restore and by cycles",
    "dbt": "dbt's target folder (artifacts, logs): rebuilt by the next dbt build",
    "tmp": "the intake's scratch space (transcoded copies, never delivered bytes)",
    "logs": "process logs",
    STAGING: "a restore in progress",
}
# Files inside kept folders that are not backed up.
EXCLUDED_FILES: dict[str, str] = {
    "warehouse/writer.lock": "the single-writer lock file (holds a pid only)",
}
SECRET_DIRS = ("keys", "audit")  # folders restored with mode 0700
# What a home holds that is backed up (any other top-level entry is backed up too): delivered packages not
# yet taken in, the archive of every delivery, the warehouse, the audit anchors, the pseudonym key, and the
# synthetic generator's ground truth. `restore --force` clears these (and EXCLUDED) in the target home.
KEPT = ("landing", "archive", "warehouse", "audit", "keys", "truth")


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass
class BackupResult:
    folder: Path
    files: int
    bytes: int
    seconds: float
    audit_head: tuple[int, str] | None
    schema_version: int | None


@dataclass
class RestoreResult:
    home: Path
    files: int
    bytes: int
    seconds: float
    migrated: list[int] = field(default_factory=list)
    audit_entries: int = 0
    published: bool = False
    notes: list[str] = field(default_factory=list)


def _copy_hash(src: Path, dst: Path) -> str:
    """Copy src to dst in chunks (bounded memory) and return src's sha256; dst is fsynced."""
    digest = hashlib.sha256()
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(CHUNK):
            digest.update(chunk)
            fout.write(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    return digest.hexdigest()


def _walk(root: Path) -> Iterator[Path]:
    """Every file and symlink under root (symlinks are not followed), sorted, minus the exclusions."""
    for top in sorted(root.iterdir()):
        if top.name in EXCLUDED and top.is_dir() and not top.is_symlink():
            continue
        if top.is_dir() and not top.is_symlink():
            for dirpath, dirnames, filenames in os.walk(top):
                dirnames.sort()
                base = Path(dirpath)
                for name in sorted(filenames) + sorted(d for d in dirnames if (base / d).is_symlink()):
                    p = base / name
                    if p.relative_to(root).as_posix() not in EXCLUDED_FILES:
                        yield p
        else:
            yield top


def _is_within(a: Path, b: Path) -> bool:
    return a == b or b in a.parents


def _checkpoint(home: Home) -> tuple[tuple[int, str] | None, int | None]:
    """Checkpoint the live warehouse (so the file alone holds every commit); its audit head and version."""
    from pipelines.intake.audit import head
    from pipelines.warehouse.migrations import current_version

    if not home.warehouse.exists():
        return None, None
    con = duckdb.connect(str(home.warehouse))
    try:
        con.execute("checkpoint")
        version = current_version(con)
        has_log = version is not None
        return (head(con) if has_log else None), version
    finally:
        con.close()


def backup(home: Home, folder: Path, *, timeout_s: float | None = None) -> BackupResult:
    """Write a backup of `home` into `folder` (absent or empty), holding the writer lock throughout."""
    from pipelines.warehouse.db import writer_lock

    start = time.perf_counter()
    folder = Path(folder).expanduser().resolve()
    if not home.root.is_dir():
        raise BackupError(f"no home at {home.root}: give --home (or set SUPTECH_HOME)")
    if _is_within(folder, home.root) or _is_within(home.root, folder):
        raise BackupError(f"{folder} overlaps the home {home.root}: back up to a folder outside it")
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: back up into a new or empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)  # the pseudonym key is inside
    files: list[dict] = []
    total = 0
    with writer_lock(home, timeout_s=timeout_s):
        head, version = _checkpoint(home)
        for src in _walk(home.root):
            rel = src.relative_to(home.root).as_posix()
            dst = folder / FILES_DIR / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            st = src.lstat()
            if stat.S_ISLNK(st.st_mode):
                target = os.readlink(src)
                os.symlink(target, dst)
                files.append({"path": rel, "symlink": target})
                continue
            digest = _copy_hash(src, dst)
            os.chmod(dst, stat.S_IMODE(st.st_mode))
            os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
            files.append(
                {
                    "path": rel,
                    "sha256": digest,
                    "bytes": st.st_size,
                    "mode": stat.S_IMODE(st.st_mode),
                    "mtime_ns": st.st_mtime_ns,
                }
            )
            total += st.st_size
    for d in SECRET_DIRS:
        if (folder / FILES_DIR / d).is_dir():
            os.chmod(folder / FILES_DIR / d, 0o700)
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source_home": str(home.root),  # informational: every path below is relative to the home
        "schema_version": version,
        "audit_head": None if head is None else {"seq": head[0], "hash": head[1]},
        "excluded": {**EXCLUDED, **EXCLUDED_FILES},
        "files": files,
    }
    tmp = folder / (MANIFEST + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / MANIFEST)  # written last: a backup without a manifest is incomplete
    return BackupResult(folder, len(files), total, time.perf_counter() - start, head, version)


def read_manifest(folder: Path) -> dict:
    path = Path(folder) / MANIFEST
    if not path.exists():
        raise BackupError(
            f"{path} is missing: {folder} is not a backup, or its backup was interrupted (make a new one)"
        )
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: unknown backup format {manifest.get('format')!r} (expected {FORMAT})")
    return manifest


def _has_files(root: Path) -> bool:
    """True if any file lies under root (empty folders, as `Home.ensure` makes them, do not count)."""
    if not root.exists():
        return False
    for dirpath, _dirs, names in os.walk(root):
        if any((Path(dirpath) / n).relative_to(root).as_posix() not in EXCLUDED_FILES for n in names):
            return True
    return False


def _stage(folder: Path, manifest: dict, staging: Path) -> tuple[int, int]:
    """Copy the backup's files into staging, checking each against the manifest; (files, bytes)."""
    src_root = folder / FILES_DIR
    listed = {f["path"] for f in manifest["files"]}
    extra = sorted(
        p.relative_to(src_root).as_posix()
        for p in src_root.rglob("*")
        if (p.is_file() or p.is_symlink()) and p.relative_to(src_root).as_posix() not in listed
    )
    if extra:
        raise BackupError(
            f"the backup holds files its manifest does not list ({', '.join(extra[:3])}): it was altered"
        )
    total = 0
    for entry in manifest["files"]:
        rel = entry["path"]
        if Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise BackupError(f"manifest path {rel!r} leaves the home: the backup was altered")
        src, dst = src_root / rel, staging / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if "symlink" in entry:
            os.symlink(entry["symlink"], dst)
            continue
        if not src.is_file():
            raise BackupError(f"{src} is missing from the backup: restore from another backup")
        digest = _copy_hash(src, dst)
        if digest != entry["sha256"]:
            raise BackupError(
                f"{rel} does not match the manifest (sha256 {digest}, expected {entry['sha256']}): "
                "the backup is damaged; restore from another backup"
            )
        os.chmod(dst, entry["mode"])
        os.utime(dst, ns=(entry["mtime_ns"], entry["mtime_ns"]))
        total += entry["bytes"]
    for d in SECRET_DIRS:
        if (staging / d).is_dir():
            os.chmod(staging / d, 0o700)
    return len(manifest["files"]), total


def restore(
    folder: Path,
    home: Home,
    *,
    force: bool = False,
    regenerate: bool = True,
    progress: Callable[[str], None] | None = None,
) -> RestoreResult:
    """Restore the backup in `folder` into `home` (see the module docstring)."""
    from pipelines.warehouse.db import writer_lock

    start = time.perf_counter()
    folder = Path(folder).expanduser().resolve()
    manifest = read_manifest(folder)
    if _is_within(folder, home.root) or _is_within(home.root, folder):
        raise BackupError(f"the backup {folder} overlaps the target home {home.root}: restore elsewhere")
    if _has_files(home.root) and not force:
        raise BackupError(
            f"{home.root} already holds files: restore into a new or empty home, or give --force to replace "
            "its landing, archive, warehouse, audit anchors and keys with the backup's"
        )
    home.root.mkdir(parents=True, exist_ok=True)
    with writer_lock(home):
        staging = home.root / STAGING
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        if progress:
            progress("verifying and copying files")
        n_files, n_bytes = _stage(folder, manifest, staging)
        tops = sorted(p.name for p in staging.iterdir())
        for name in sorted(set(tops) | set(KEPT) | set(EXCLUDED) - {STAGING}):
            _remove(home.root, home.root / name)
        for name in tops:
            _move_into(staging / name, home.root / name)
        staging.rmdir()
        home.ensure()  # the standard folders, also those the backup had empty
        result = RestoreResult(home.root, n_files, n_bytes, 0.0)
        _check_warehouse(home, result)
    if regenerate and home.warehouse.exists():
        if progress:
            progress("publishing snapshots and reports")
        _regenerate(home, result)
    result.seconds = time.perf_counter() - start
    return result


def _remove(root: Path, path: Path) -> None:
    """Remove a path of the target home; warehouse/writer.lock (held by us) stays."""
    if path.relative_to(root).as_posix() in EXCLUDED_FILES:
        return
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        for child in path.iterdir():
            _remove(root, child)
        if not any(path.iterdir()):
            path.rmdir()


def _move_into(src: Path, dst: Path) -> None:
    """Rename src to dst; into an existing folder (warehouse/, which keeps the lock file) child by child."""
    if dst.is_dir() and not dst.is_symlink() and src.is_dir() and not src.is_symlink():
        for child in list(src.iterdir()):
            _move_into(child, dst / child.name)
        src.rmdir()
    else:
        os.replace(src, dst)


def _check_warehouse(home: Home, result: RestoreResult) -> None:
    """Upgrade the schema if the backup is older than the code, and verify the audit log."""
    from pipelines.intake.audit import verify_home
    from pipelines.warehouse.db import connect_writer

    if not home.warehouse.exists():
        result.notes.append("the backup holds no warehouse: the next `suptech run` creates one")
        return
    from pipelines.warehouse.migrations import MIGRATIONS, current_version

    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        before = current_version(con) or 0
    finally:
        con.close()
    with connect_writer(home) as con:  # applies pending migrations (refuses a newer warehouse)
        after = current_version(con) or 0
        verdict = verify_home(home.root, con)
    result.migrated = [m.version for m in MIGRATIONS if before < m.version <= after]
    if verdict.first_break is not None:
        raise BackupError(
            f"the restored audit log does not verify: {verdict.first_break.problem}; "
            "the backup was made from a tampered home or altered since: restore from an earlier backup"
        )
    result.audit_entries = verdict.entries
    result.notes.extend(verdict.notes)


def _regenerate(home: Home, result: RestoreResult) -> None:
    """Republish the snapshots and rewrite every period's reports and every edit report."""
    from pipelines.cycle import write_period_reports
    from pipelines.reports.edit_report import write_edit_reports
    from pipelines.warehouse.db import connect_writer, publish_snapshot, writer_lock

    with writer_lock(home):
        with connect_writer(home) as con:
            sids = [
                r[0]
                for r in con.execute("select submission_id from intake.submissions order by 1").fetchall()
            ]
            write_edit_reports(con, home.reports / "edit", sids)
        publish_snapshot(home)
        result.published = True
        if sids:
            write_period_reports(home, sids)
