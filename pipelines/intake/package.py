"""Discovering complete packages in the landing area: each delivery, its manifest, its identity (the
SHA-256 of its bytes) and the paths inside it.

A package is `landing/<enterprise_id>/<submission_id>/` with `manifest.json` written last. The S checks
over packages and files are registered in pipelines/intake/syntax.py.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from pipelines.intake.manifest import (
    MANIFEST_NAME,
    Manifest,
    ManifestError,
    parse_manifest,
    read_manifest_bytes,
)
from pipelines.intake.problems import Problem, printable, problem
from pipelines.intake.readers import sha256_file

__all__ = ["SUBMISSION_ID", "Package", "Problem", "discover", "printable"]


@dataclass
class Package:
    """A delivery in the landing area: a package folder landing/<enterprise>/<folder>/ with its manifest, or
    an entry that is no package (a link, a loose file) with the `refusal` that says so."""

    folder: Path
    enterprise_dir: str  # the landing folder it was delivered in ("" for an entry of landing/ itself)
    manifest_mtime: datetime  # of manifest.json, or of the entry itself when it is no package
    manifest_bytes: bytes | None
    manifest: Manifest | None
    manifest_problem: ManifestError | None
    refusal: Problem | None = None

    @property
    def folder_id(self) -> str:
        return self.folder.name

    @property
    def landing_level(self) -> bool:
        return self.enterprise_dir == ""

    @property
    def where(self) -> str:
        """The delivery's place in the landing area, printable: landing/<enterprise>/<folder>."""
        parts = (
            ["landing", self.enterprise_dir, self.folder_id]
            if self.enterprise_dir
            else ["landing", self.folder_id]
        )
        return "/".join(printable(p) for p in parts)


SUBMISSION_ID = re.compile(r"^((?:PAY|P2P|CF|WM)[0-9]{4})-[0-9]{4}-(?:0[1-9]|1[0-2])-v[1-9][0-9]*$")


def _mtime(path: Path, clock: datetime) -> datetime:
    """The entry's own modification time (links not followed); the clock if it is out of range."""
    try:
        return datetime.fromtimestamp(path.lstat().st_mtime, tz=UTC)
    except (OverflowError, ValueError, OSError):
        return clock


def discover(landing: Path, clock: datetime, grace_seconds: int) -> list[Package]:
    """Every delivery under landing/ that the intake decides now, oldest first: complete packages, and
    entries that can never become one (links, loose files), each with its refusal.

    A manifest that cannot be parsed and is younger than the grace period counts as absent; a package
    folder without manifest.json is still being delivered.
    """
    found: list[Package] = []
    if not landing.is_dir():
        return found
    for entry in _entries(landing):
        if entry.is_symlink() or not entry.is_dir():
            found.append(_refused(entry, "", clock))
            continue
        for folder in _entries(entry):
            if folder.is_symlink() or not folder.is_dir():
                found.append(_refused(folder, entry.name, clock))
            elif (pkg := _package(folder, entry.name, clock, grace_seconds)) is not None:
                found.append(pkg)
    return sorted(found, key=lambda p: (p.manifest_mtime, p.enterprise_dir, _version(p), p.folder_id))


def _entries(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError:  # removed or unreadable meanwhile: looked at again next cycle
        return []


def _package(folder: Path, enterprise_dir: str, clock: datetime, grace_seconds: int) -> Package | None:
    mpath = folder / MANIFEST_NAME
    if not os.path.lexists(mpath):
        return None
    mtime = _mtime(mpath, clock)
    data, manifest, failure = None, None, None
    try:
        data = read_manifest_bytes(mpath)
        manifest = parse_manifest(data)
    except ManifestError as exc:
        failure = exc
        if exc.unreadable and (clock - mtime).total_seconds() < grace_seconds:
            return None  # still being written
    except OSError as exc:
        failure = ManifestError("manifest_unreadable", f"manifest.json cannot be read: {exc.strerror}")
    return Package(folder, enterprise_dir, mtime, data, manifest, failure)


def _refused(entry: Path, enterprise_dir: str, clock: datetime) -> Package:
    """An entry of landing/ or landing/<enterprise>/ that is no package folder: refused as it is
    (not_a_package, S004); the intake names its place (Package.where) before this reason."""
    if entry.is_symlink():
        what = "a symbolic link (never followed)"
    elif entry.is_dir():
        what = "a folder directly in landing/, not in an enterprise folder"
    else:
        what = "a loose file" if entry.is_file() else "neither a folder nor a file"
    refusal = problem(
        "not_a_package",
        f"{what}: deliver each package as a real folder landing/<enterprise_id>/<submission_id>/ "
        "holding its files and manifest.json",
    )
    return Package(entry, enterprise_dir, _mtime(entry, clock), None, None, None, refusal)


def entry_identity(pkg: Package) -> str:
    """SHA-256 of an entry that is no package: a link's target, a file's bytes, else its kind."""
    path = pkg.folder
    h = hashlib.sha256()
    if path.is_symlink():
        h.update(b"link:" + os.fsencode(os.readlink(path)))
    elif path.is_file():
        h.update(b"file:" + bytes.fromhex(sha256_file(path)))
    else:
        h.update(f"entry:{path.lstat().st_mode:o}".encode())
    return h.hexdigest()


Fingerprint = tuple[int, int, int, int, int]


def fingerprints(folder: Path, pkg: Package) -> dict[str, Fingerprint]:
    """Size, mtime, ctime, inode and device of each listed regular file under `folder`: any write to a
    file changes them, so equal fingerprints mean the bytes hashed are still the bytes there."""
    out: dict[str, Fingerprint] = {}
    for f in pkg.manifest.files if pkg.manifest else ():
        path = safe_path(folder, f.path)
        if path is None:
            continue
        try:
            st = path.lstat()
        except OSError:
            continue
        out[f.path] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
    return out


def _version(p: Package) -> int:
    return p.manifest.version if p.manifest else 0


def actual_hashes(pkg: Package) -> dict[str, str]:
    """SHA-256 of each listed file that is a regular file inside the package (by manifest path)."""
    hashes: dict[str, str] = {}
    if not pkg.manifest:
        return hashes
    for f in pkg.manifest.files:
        path = safe_path(pkg.folder, f.path)
        if path is not None and path.is_file() and not path.is_symlink():
            hashes[f.path] = sha256_file(path)
    return hashes


def package_identity(pkg: Package, hashes: dict[str, str]) -> str:
    """SHA-256 over manifest.json's bytes followed by each delivered file's SHA-256, in manifest order."""
    h = hashlib.sha256(pkg.manifest_bytes or b"")
    if pkg.manifest:
        for f in pkg.manifest.files:
            h.update(hashes.get(f.path, "").encode("ascii"))
    return h.hexdigest()


def safe_path(folder: Path, rel: str) -> Path | None:
    """The path inside the package, or None if it escapes it (absolute, '..', backslashes, links)."""
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or "\\" in rel or rel.startswith("~") or "\x00" in rel:
        return None
    candidate = folder.joinpath(*pure.parts)
    # every component must be a real entry, not a symbolic link
    cur = folder
    for part in pure.parts:
        cur = cur / part
        if cur.is_symlink():
            return None
    try:
        candidate.resolve().relative_to(folder.resolve())
    except ValueError:
        return None
    return candidate
