"""Discovering complete packages in the landing area and the package-level syntax checks.

A package is `landing/<enterprise_id>/<submission_id>/` with `manifest.json` written last. The checks
here need only the file system and the manifest: identity (S004), owed filing types (S006), paths
(S007), unlisted files (S008), compression (S012), encodings (S013) and checksums (S009, X-11).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from pipelines.calendar import ent_type_of, required_filing_types
from pipelines.intake.manifest import (
    MANIFEST_NAME,
    Manifest,
    ManifestError,
    parse_manifest,
    read_manifest_bytes,
)
from pipelines.intake.readers import sha256_file


@dataclass
class Problem:
    rule_id: str
    message: str
    filing_type: str | None = None
    row_number: int | None = None
    fields: list[tuple[str, object]] = field(default_factory=list)


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


def printable(name: str) -> str:
    """A name as valid UTF-8 text: bytes that were not UTF-8 (surrogate escapes) as \\xNN, other lone
    surrogates as \\uXXXX and control characters as \\xNN, the rest unchanged."""
    return _UNPRINTABLE.sub(_escape, name)


def _escape(m: re.Match) -> str:
    c = ord(m.group())
    return (
        f"\\x{c - 0xDC00:02x}" if 0xDC80 <= c <= 0xDCFF else (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}")
    )


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
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
    data, manifest, problem = None, None, None
    try:
        data = read_manifest_bytes(mpath)
        manifest = parse_manifest(data)
    except ManifestError as exc:
        problem = exc
        if exc.rule_id == "S001" and (clock - mtime).total_seconds() < grace_seconds:
            return None  # still being written
    except OSError as exc:
        problem = ManifestError("S001", f"manifest.json cannot be read: {exc.strerror}")
    return Package(folder, enterprise_dir, mtime, data, manifest, problem)


def _refused(entry: Path, enterprise_dir: str, clock: datetime) -> Package:
    """An entry of landing/ or landing/<enterprise>/ that is no package folder: refused as it is (S004);
    the intake names its place (Package.where) before this reason."""
    if entry.is_symlink():
        what = "a symbolic link (never followed)"
    elif entry.is_dir():
        what = "a folder directly in landing/, not in an enterprise folder"
    else:
        what = "a loose file" if entry.is_file() else "neither a folder nor a file"
    refusal = Problem(
        "S004",
        f"{what}: deliver each package as a real folder landing/<enterprise_id>/<submission_id>/ "
        "holding its files and manifest.json",
    )
    return Package(entry, enterprise_dir, _mtime(entry, clock), None, None, None, refusal)


def own_submission_id(pkg: Package) -> str | None:
    """The submission id this delivery is recorded under: its folder's name, when that is a submission id
    of the enterprise folder it was delivered in and the manifest (if readable) agrees. Otherwise None:
    the delivery is refused under an id of its own and claims no submission id (another enterprise's)."""
    if pkg.refusal is not None or pkg.landing_level:
        return None
    m = SUBMISSION_ID.match(pkg.folder_id)
    if m is None or m.group(1) != pkg.enterprise_dir:
        return None
    if pkg.manifest is not None and check_identity(pkg):
        return None
    return pkg.folder_id


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


def check_identity(pkg: Package) -> list[Problem]:
    m = pkg.manifest
    assert m is not None
    problems = []
    expected_id = f"{m.enterprise_id}-{m.period}-v{m.version}"
    if m.submission_id != expected_id:
        problems.append(
            Problem(
                "S004",
                f"submission_id {m.submission_id!r} must be {expected_id!r} "
                "(<enterprise_id>-<period>-v<version>)",
            )
        )
    if m.submission_id != pkg.folder_id:
        problems.append(
            Problem(
                "S004",
                f"the package folder is named '{printable(pkg.folder_id)}' but submission_id is "
                f"{m.submission_id!r}: name the folder after the submission_id",
            )
        )
    if m.enterprise_id != pkg.enterprise_dir:
        problems.append(
            Problem(
                "S004",
                f"the manifest is for {m.enterprise_id} but was delivered in the landing "
                f"folder of {printable(pkg.enterprise_dir)}: deliver it under landing/{m.enterprise_id}/",
            )
        )
    return problems


def check_filing_types(m: Manifest) -> list[Problem]:
    ent_type = ent_type_of(m.enterprise_id)
    owed = required_filing_types().get(ent_type or "", ())
    listed = [f.filing_type for f in m.files]
    problems = []
    for ft in owed:
        if ft not in listed:
            problems.append(
                Problem(
                    "S006",
                    f"filing type {ft} is owed by {ent_type} but not listed in files: "
                    "file it (with zero rows if nothing happened)",
                    ft,
                )
            )
    for ft in sorted(set(listed)):
        if listed.count(ft) > 1:
            problems.append(
                Problem("S006", f"filing type {ft} is listed {listed.count(ft)} times: list it once", ft)
            )
        if ft not in owed:
            problems.append(Problem("S006", f"filing type {ft} is not owed by {ent_type}: remove it", ft))
    return problems


def check_files(pkg: Package, hashes: dict[str, str]) -> list[Problem]:
    """Paths, unlisted entries, compression/encoding declarations and checksums."""
    m = pkg.manifest
    assert m is not None
    problems = []
    listed: set[Path] = set()
    for f in m.files:
        path = safe_path(pkg.folder, f.path)
        if path is None:
            problems.append(
                Problem(
                    "S007",
                    f"path {f.path!r} escapes the package or passes through a link: "
                    "use a plain file name inside the package folder",
                    f.filing_type,
                )
            )
            continue
        listed.add(path)
        if not os.path.lexists(path):
            problems.append(
                Problem(
                    "S007", f"{f.path} is listed in the manifest but absent from the package", f.filing_type
                )
            )
        elif path.is_symlink() or not path.is_file():
            problems.append(
                Problem("S007", f"{f.path} is not a regular file (links are refused)", f.filing_type)
            )
        gz = f.path.endswith(".gz")
        if (f.compression == "gzip") != gz:
            problems.append(
                Problem(
                    "S012",
                    f"{f.path}: compression {f.compression!r} does not match the file name "
                    "(gzip exactly when the name ends in .gz)",
                    f.filing_type,
                )
            )
        if f.compression == "gzip" and f.format == "parquet":
            problems.append(
                Problem("S012", f"{f.path}: gzip is allowed only for csv and jsonl", f.filing_type)
            )
        if f.format != "csv" and f.encoding != "utf-8":
            problems.append(
                Problem(
                    "S013",
                    f"{f.path}: {f.format} files are always UTF-8; remove encoding {f.encoding!r}",
                    f.filing_type,
                )
            )
        actual = hashes.get(f.path)
        if actual is not None and actual != f.sha256:
            problems.append(
                Problem(
                    "S009",
                    f"{f.path}: SHA-256 of the delivered bytes is {actual}, the manifest "
                    f"says {f.sha256}: the file changed after the manifest was made",
                    f.filing_type,
                    fields=[("sha256", actual)],
                )
            )
    for entry in _walk(pkg.folder):
        if entry.name == "manifest.json" and entry.parent == pkg.folder:
            continue
        if entry in listed or entry.is_dir() and not entry.is_symlink():
            continue
        rel = printable(str(entry.relative_to(pkg.folder)))
        problems.append(
            Problem("S008", f"{rel} is in the package but not listed in the manifest: remove it or list it")
        )
    return problems


def _walk(folder: Path):
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            yield Path(root) / name
