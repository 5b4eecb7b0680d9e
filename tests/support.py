"""Shared test helpers: the spec's example packages dropped into a landing area."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

# shared/ sits beside the project root (here and in CI's fresh clone)
EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "spec" / "examples"


def example_packages() -> list[Path]:
    return sorted(p for p in EXAMPLES.glob("*/*") if (p / "manifest.json").exists())


def drop_package(src: Path, landing: Path, *, mtime: datetime | None = None) -> Path:
    """Copy a package folder into landing/<enterprise>/<submission>/, manifest last, stamped with mtime
    (default: the manifest's submitted_at, as for a backfill of past deliveries)."""
    manifest = json.loads((src / "manifest.json").read_text(encoding="utf-8"))
    dest = landing / manifest["enterprise_id"] / src.name
    dest.mkdir(parents=True)
    for f in sorted(src.iterdir()):
        if f.name != "manifest.json":
            shutil.copyfile(f, dest / f.name)
    shutil.copyfile(src / "manifest.json", dest / "manifest.json")
    stamp = (mtime or datetime.fromisoformat(manifest["submitted_at"])).timestamp()
    os.utime(dest / "manifest.json", (stamp, stamp))
    for f in dest.iterdir():
        os.chmod(f, 0o644)
    return dest


def drop_examples(landing: Path) -> list[Path]:
    return [drop_package(p, landing) for p in example_packages()]


def copy_example(name: str, dest_root: Path) -> Path:
    """A writable copy of an example package (e.g. 'PAY0001-2026-10-v1') under dest_root."""
    src = next(p for p in example_packages() if p.name == name)
    dest = dest_root / name
    shutil.copytree(src, dest)
    for f in dest.iterdir():
        os.chmod(f, 0o644)
    return dest


def refresh_manifest(folder: Path, **changes) -> dict:
    """Recompute sha256 and row_count of every listed file (as a careful filer would), apply top-level changes."""
    import hashlib

    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for f in manifest["files"]:
        p = folder / f["path"]
        if p.is_file():
            f["sha256"] = hashlib.sha256(p.read_bytes()).hexdigest()
    manifest.update(changes)
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return manifest


def file_entry(manifest_folder: Path, filing_type: str) -> dict:
    manifest = json.loads((manifest_folder / "manifest.json").read_text(encoding="utf-8"))
    return next(f for f in manifest["files"] if f["filing_type"] == filing_type)


def file_fingerprints(path: Path, schemas: Sequence[str]) -> dict[str, str]:
    """The content fingerprint of every table of the schemas of the DuckDB file (opened read-only)."""
    import duckdb

    from pipelines.warehouse.fingerprint import table_fingerprints

    con = duckdb.connect(str(path), read_only=True)
    try:
        return table_fingerprints(con, schemas)
    finally:
        con.close()
