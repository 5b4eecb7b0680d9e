"""Building upload bodies for the filing API tests: archives of package folders, hostile ones included."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

from pipelines.home import Home


def zip_folder(folder: Path, top: str | None = None) -> bytes:
    """A zip of a package folder's files, at the archive's root or inside one top folder."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f"{top}/{f.name}" if top else f.name)
    return buf.getvalue()


def tar_gz_folder(folder: Path, top: str | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for f in sorted(folder.iterdir()):
            tf.add(f, f"{top}/{f.name}" if top else f.name)
    return buf.getvalue()


def zip_entries(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def zip_with_symlink(name: str, target: str, manifest: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.json", manifest)
        info = zipfile.ZipInfo(name)
        info.external_attr = (0o120777 << 16) | 0x20  # S_IFLNK
        zf.writestr(info, target)
    return buf.getvalue()


def zip_bomb(manifest: bytes, megabytes: int = 200) -> bytes:
    """A small zip whose one file expands to `megabytes` MiB of zeros (written as a stream)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("manifest.json", manifest)
        with zf.open("transactions.csv", "w", force_zip64=True) as fh:
            block = b"\0" * (1 << 20)
            for _ in range(megabytes):
                fh.write(block)
    return buf.getvalue()


def tar_gz_entries(entries: list[tarfile.TarInfo], data: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for info in entries:
            payload = data.get(info.name)
            if payload is not None:
                info.size = len(payload)
            tf.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return buf.getvalue()


def manifest_for(enterprise_id: str, sid: str) -> bytes:
    return json.dumps({"spec_version": "1.0", "submission_id": sid, "enterprise_id": enterprise_id}).encode()


def landed(home: Home) -> list[str]:
    """Every package folder in the landing area, as <enterprise>/<folder>."""
    if not home.landing.is_dir():
        return []
    return sorted(f"{d.name}/{p.name}" for d in home.landing.iterdir() if d.is_dir() for p in d.iterdir())


def staging_left(home: Home) -> list[str]:
    """What uploads left in <home>/staging/ (the lock file aside): should be nothing."""
    root = home.root / "staging"
    return sorted(p.name for p in root.iterdir() if p.name != ".land.lock") if root.is_dir() else []


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
