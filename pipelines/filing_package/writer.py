"""Write one submission package (spec/filings.md): the files, then manifest.json last (temp name + rename),
stamped with the package's delivery time. Used by the generator and the real-data mappings alike."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

from pipelines.filing_package.formats import control_totals, csv_bytes

GZIP_LEVEL = 3


@dataclass
class FileOut:
    filing_type: str
    data: bytes  # bytes as written
    compression: str  # none | gzip
    row_count: int
    control_totals: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"{self.filing_type}.csv" + (".gz" if self.compression == "gzip" else "")


def encode(filing_type: str, df: pl.DataFrame, *, compress: bool) -> FileOut:
    raw = csv_bytes(filing_type, df)
    data = gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0) if compress else raw
    return FileOut(
        filing_type, data, "gzip" if compress else "none", df.height, control_totals(filing_type, df)
    )


def manifest_entry(f: FileOut) -> dict:
    entry = {
        "filing_type": f.filing_type,
        "path": f.path,
        "format": "csv",
        "compression": f.compression,
        "encoding": "utf-8",
        "sha256": hashlib.sha256(f.data).hexdigest(),
        "row_count": f.row_count,
    }
    if f.control_totals:
        entry["control_totals"] = dict(f.control_totals)
    return entry


def write(
    folder: Path,
    head: dict,
    files: list[FileOut],
    delivered: datetime,
    tamper: Callable[[Path, dict], None] | None = None,
) -> dict:
    """Write the package and return its manifest. `tamper(folder, manifest)` runs after the files are
    hashed and before the manifest is written (syntax injections)."""
    folder.mkdir(parents=True, exist_ok=False)
    stamp = delivered.timestamp()
    for f in files:
        (folder / f.path).write_bytes(f.data)
    manifest = {
        **head,
        "submitted_at": delivered.isoformat(timespec="seconds"),
        "files": [manifest_entry(f) for f in files],
    }
    if tamper is not None:
        tamper(folder, manifest)
    for f in files:
        if (folder / f.path).exists():  # a syntax injection may have removed it
            os.utime(folder / f.path, (stamp, stamp))
    tmp = folder / ".manifest.json.tmp"
    tmp.write_bytes((json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    os.utime(tmp, (stamp, stamp))
    os.rename(tmp, folder / "manifest.json")
    return manifest
