"""Uploaded packages: checked, extracted into a staging area, then moved into the landing area atomically.

An upload is a `.zip` or `.tar.gz` of one package (its files and manifest.json at the archive's root, or
inside a single top folder), or the package's files themselves. Before anything is extracted the archive's
whole listing is checked: no absolute path, no `..`, no backslash or NUL, only regular files and folders
(links, hard links and devices are refused), at most MAX_FILES files, and the sizes within the limits. The
limits are the intake's own: a package holds at most one file per filing type plus manifest.json, and an
archive may expand at most MAX_GZIP_RATIO times (at least MIN_GZIP_ALLOWANCE), as the intake allows a
gzip file (pipelines/intake/readers.py). Bytes are counted while extracting too (headers can lie).

The package is then extracted into `<home>/staging/<random>/`, its manifest parsed by the intake's own
parser, its enterprise_id compared with the uploader's, and the folder renamed into
`landing/<enterprise>/<submission_id>/` (same file system: atomic; refused if that folder exists). The
intake then takes it in exactly as a folder dropped there by hand. Staging is removed whatever happens.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import secrets
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from pipelines.contracts import load_contracts
from pipelines.home import Home
from pipelines.intake.manifest import MANIFEST_NAME, ManifestError, parse_manifest, read_manifest_bytes
from pipelines.intake.package import SUBMISSION_ID, printable
from pipelines.intake.readers import CHUNK, MAX_GZIP_RATIO, MIN_GZIP_ALLOWANCE

# One file per filing type at most, plus manifest.json.
MAX_FILES = len(load_contracts()) + 1
DEFAULT_MAX_UPLOAD_BYTES = 2 << 30  # 2 GiB as uploaded; $SUPTECH_MAX_UPLOAD_BYTES changes it
DEFAULT_MAX_UNPACKED_BYTES = 32 << 30  # 32 GiB unpacked at most, whatever the ratio allows
MAX_NAME_BYTES = 255


class UploadRefused(Exception):
    """An upload that is not taken; `status` is the HTTP status to answer, the message says what to fix."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Limits:
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES
    max_files: int = MAX_FILES
    max_ratio: int = MAX_GZIP_RATIO
    min_allowance: int = MIN_GZIP_ALLOWANCE

    @classmethod
    def from_env(cls) -> Limits:
        return cls(
            max_upload_bytes=int(os.environ.get("SUPTECH_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)),
            max_unpacked_bytes=int(os.environ.get("SUPTECH_MAX_UNPACKED_BYTES", DEFAULT_MAX_UNPACKED_BYTES)),
        )

    def unpacked_limit(self, packed: int) -> int:
        return min(self.max_unpacked_bytes, max(self.min_allowance, packed * self.max_ratio))


@dataclass(frozen=True)
class Landed:
    submission_id: str
    enterprise_id: str
    folder: Path
    files: int
    bytes: int


def staging_root(home: Home) -> Path:
    path = home.root / "staging"
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


@contextlib.contextmanager
def staging_area(home: Home) -> Iterator[Path]:
    """A fresh folder <home>/staging/<random>/, removed on exit whatever happens."""
    folder = staging_root(home) / secrets.token_hex(8)
    folder.mkdir(mode=0o700)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def receive(chunks: Iterable[bytes], dest: Path, limits: Limits) -> int:
    """Write an uploaded stream to dest, refusing it once it passes max_upload_bytes; returns its size."""
    size = 0
    with open(dest, "wb") as fh:
        for chunk in chunks:
            size += len(chunk)
            if size > limits.max_upload_bytes:
                raise too_large(limits)
            fh.write(chunk)
    return size


def too_large(limits: Limits) -> UploadRefused:
    return UploadRefused(
        413,
        f"the upload is larger than {limits.max_upload_bytes} bytes: split the package's files "
        "differently (e.g. csv.gz) or ask the regulator's operator about the limit",
    )


# --- names -----------------------------------------------------------------------------------------------


def check_name(name: str) -> PurePosixPath:
    """A member name as a relative path inside the package, or UploadRefused saying what is wrong."""
    shown = printable(name)
    if not name or "\x00" in name or "\\" in name:
        raise UploadRefused(
            422, f"entry {shown!r}: empty name, NUL or backslash in the name; use plain names"
        )
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise UploadRefused(
            422, f"entry {shown!r} has an absolute path: archive the package with relative paths"
        )
    pure = PurePosixPath(name)
    if ".." in pure.parts:
        raise UploadRefused(
            422, f"entry {shown!r} escapes the package ('..' in its path): archive only the package folder"
        )
    if any(len(p.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES for p in pure.parts):
        raise UploadRefused(422, f"entry {shown!r}: a name is longer than {MAX_NAME_BYTES} bytes")
    parts = [p for p in pure.parts if p not in ("", ".")]
    if not parts:
        raise UploadRefused(422, f"entry {shown!r} names no file")
    return PurePosixPath(*parts)


@dataclass(frozen=True)
class Member:
    path: PurePosixPath
    is_dir: bool
    size: int


def _check_listing(members: list[Member], packed: int, limits: Limits) -> None:
    files = [m for m in members if not m.is_dir]
    if len(files) > limits.max_files:
        raise UploadRefused(
            422,
            f"the archive holds {len(files)} files; a package has at most {limits.max_files} "
            "(one per filing type and manifest.json): archive only the package folder",
        )
    limit = limits.unpacked_limit(packed)
    total = sum(m.size for m in files)
    if total > limit:
        raise unpacked_too_large(limit, limits)
    seen: set[PurePosixPath] = set()
    for m in files:
        if m.path in seen:
            raise UploadRefused(422, f"entry {printable(str(m.path))!r} appears twice in the archive")
        seen.add(m.path)


def unpacked_too_large(limit: int, limits: Limits) -> UploadRefused:
    return UploadRefused(
        413,
        f"the archive expands beyond {limit} bytes (at most {limits.max_ratio}x its size, at least "
        f"{limits.min_allowance} bytes, never over {limits.max_unpacked_bytes}): refused as a possible "
        "compression bomb; upload the files uncompressed or as csv.gz",
    )


# --- zip -------------------------------------------------------------------------------------------------


def _zip_members(zf: zipfile.ZipFile) -> list[Member]:
    members = []
    for info in zf.infolist():
        path = check_name(info.filename)
        mode = info.external_attr >> 16
        kind = stat.S_IFMT(mode)
        if info.is_dir():
            if kind not in (0, stat.S_IFDIR):
                raise UploadRefused(422, f"entry {printable(info.filename)!r} is not a plain folder")
            members.append(Member(path, True, 0))
            continue
        if kind == stat.S_IFLNK:
            raise UploadRefused(
                422,
                f"entry {printable(info.filename)!r} is a symbolic link: links are refused, archive files",
            )
        if kind not in (0, stat.S_IFREG):
            raise UploadRefused(
                422, f"entry {printable(info.filename)!r} is not a regular file (device, pipe or socket)"
            )
        if info.flag_bits & 0x1:
            raise UploadRefused(
                422, f"entry {printable(info.filename)!r} is encrypted: upload it unencrypted"
            )
        members.append(Member(path, False, info.file_size))
    return members


def _extract_zip(archive: Path, dest: Path, limits: Limits) -> None:
    packed = archive.stat().st_size
    try:
        with zipfile.ZipFile(archive) as zf:
            members = _zip_members(zf)
            _check_listing(members, packed, limits)
            budget = _Budget(limits.unpacked_limit(packed), limits)
            for info, member in zip(zf.infolist(), members, strict=True):
                target = dest.joinpath(*member.path.parts)
                if member.is_dir:
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                with zf.open(info) as src:
                    _write(src, target, budget)
    except zipfile.BadZipFile as exc:
        raise UploadRefused(422, f"the zip archive cannot be read: {exc}") from None
    except (zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise UploadRefused(422, f"the zip archive cannot be extracted: {exc}") from None


# --- tar.gz ----------------------------------------------------------------------------------------------


class _CountingReader(io.RawIOBase):
    """Counts the bytes read through it and refuses past a limit (the decompressed tar stream)."""

    def __init__(self, raw: Any, limit: int, limits: Limits) -> None:
        self.raw, self.limit, self.limits, self.count = raw, limit, limits, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.raw.read(len(b))
        self.count += len(data)
        if self.count > self.limit:
            raise unpacked_too_large(self.limit, self.limits)
        b[: len(data)] = data
        return len(data)


@contextlib.contextmanager
def _tar_stream(archive: Path, limits: Limits) -> Iterator[tarfile.TarFile]:
    import gzip

    limit = limits.unpacked_limit(archive.stat().st_size)
    with gzip.open(archive, "rb") as gz:
        counted = io.BufferedReader(_CountingReader(gz, limit, limits), CHUNK)
        with tarfile.open(fileobj=counted, mode="r|") as tf:
            yield tf


def _tar_member(info: tarfile.TarInfo) -> Member:
    path = check_name(info.name)
    if info.issym() or info.islnk():
        raise UploadRefused(
            422,
            f"entry {printable(info.name)!r} is a {'symbolic' if info.issym() else 'hard'} link: "
            "links are refused, archive files",
        )
    if info.isdir():
        return Member(path, True, 0)
    if not info.isreg():
        raise UploadRefused(
            422, f"entry {printable(info.name)!r} is not a regular file (device, pipe or fifo)"
        )
    return Member(path, False, info.size)


def _extract_tar(archive: Path, dest: Path, limits: Limits) -> None:
    try:
        # first pass: the listing only (decompressed as a stream, bounded by the limit)
        with _tar_stream(archive, limits) as tf:
            members = [_tar_member(info) for info in tf]
        _check_listing(members, archive.stat().st_size, limits)
        budget = _Budget(limits.unpacked_limit(archive.stat().st_size), limits)
        with _tar_stream(archive, limits) as tf:
            for info in tf:
                member = _tar_member(info)
                target = dest.joinpath(*member.path.parts)
                if member.is_dir:
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                src = tf.extractfile(info)
                assert src is not None  # a regular file
                _write(src, target, budget)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise UploadRefused(422, f"the tar.gz archive cannot be read: {exc}") from None


# --- shared ----------------------------------------------------------------------------------------------


class _Budget:
    def __init__(self, limit: int, limits: Limits):
        self.left, self.limit, self.limits = limit, limit, limits

    def take(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise unpacked_too_large(self.limit, self.limits)


def _write(src: IO[bytes], target: Path, budget: _Budget) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        raise UploadRefused(422, f"entry {printable(target.name)!r} appears twice in the archive")
    with open(target, "xb") as out:
        while chunk := src.read(CHUNK):
            budget.take(len(chunk))
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())


def archive_kind(path: Path) -> str | None:
    """ "zip" or "tar.gz" from the first bytes, else None."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head[:2] == b"\x1f\x8b":
        return "tar.gz"
    return None


def extract(archive: Path, dest: Path, limits: Limits) -> None:
    """Check the archive's listing, then extract it into dest (an empty folder)."""
    kind = archive_kind(archive)
    if kind is not None:
        try:
            (_extract_zip if kind == "zip" else _extract_tar)(archive, dest, limits)
        except OSError as exc:  # e.g. a file and a folder of the same name
            raise UploadRefused(422, f"the {kind} archive cannot be extracted: {exc.strerror}") from None
    else:
        raise UploadRefused(
            415,
            "the upload is neither a .zip nor a .tar.gz archive: archive the package folder, or send its "
            "files and manifest.json as multipart form parts named 'files'",
        )


def place_files(files: Iterable[tuple[str, Path]], dest: Path, limits: Limits) -> None:
    """The package's files sent one by one (multipart): plain names only, at most max_files."""
    items = list(files)
    if len(items) > limits.max_files:
        raise UploadRefused(
            422,
            f"{len(items)} files sent; a package has at most {limits.max_files} "
            "(one per filing type and manifest.json)",
        )
    dest.mkdir(parents=True, exist_ok=True)
    for name, src in items:
        path = check_name(name)
        if len(path.parts) != 1:
            raise UploadRefused(422, f"file name {printable(name)!r} has a folder: send plain file names")
        target = dest / path.name
        if target.exists():
            raise UploadRefused(422, f"file {printable(name)!r} sent twice")
        os.rename(src, target)


def package_root(extracted: Path) -> Path:
    """The folder holding manifest.json: the extraction root, or its single top folder."""
    if (extracted / MANIFEST_NAME).is_file():
        return extracted
    entries = list(extracted.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and (entries[0] / MANIFEST_NAME).is_file():
        return entries[0]
    raise UploadRefused(
        422,
        "no manifest.json at the package root: archive the package folder itself (or its files), "
        "with manifest.json beside the filing files",
    )


def land(home: Home, root: Path, enterprise_id: str) -> Landed:
    """Check the manifest against the uploader's enterprise and rename the package into the landing area."""
    try:
        manifest = parse_manifest(read_manifest_bytes(root / MANIFEST_NAME))
    except ManifestError as exc:
        raise UploadRefused(422, f"manifest.json is not valid ({exc.rule_id}): {exc}") from None
    if manifest.enterprise_id != enterprise_id:
        raise UploadRefused(
            403,
            f"the manifest's enterprise_id is {printable(manifest.enterprise_id)}, but this token files for "
            f"{enterprise_id}: upload only your own enterprise's packages",
        )
    sid = manifest.submission_id
    m = SUBMISSION_ID.match(sid)
    if m is None or m.group(1) != enterprise_id:
        raise UploadRefused(
            422,
            f"submission_id {printable(sid)!r} is not <enterprise_id>-<YYYY-MM>-v<version> for {enterprise_id}",
        )
    files = [p for p in root.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    for p in files:
        p.chmod(0o644)
    enterprise_dir = home.landing / enterprise_id
    enterprise_dir.mkdir(parents=True, exist_ok=True)
    target = enterprise_dir / sid
    with open(staging_root(home) / ".land.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # uploads never race each other for one folder name
        if os.path.lexists(target):
            raise UploadRefused(
                409,
                f"{sid} is already in the landing area, waiting for the next cycle: wait for its status, "
                "then send a correction as a new version",
            )
        _fsync_dir(root)
        os.rename(root, target)
        _fsync_dir(enterprise_dir)
    return Landed(sid, enterprise_id, target, len(files), size)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
