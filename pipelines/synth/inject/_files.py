"""Helpers for syntax injections that edit a written package's files (plain CSV) and its manifest."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import numpy as np


def rehash(folder: Path, entry: dict) -> None:
    """The manifest's sha256 follows the edited bytes: only the intended syntax problem remains."""
    entry["sha256"] = hashlib.sha256((folder / entry["path"]).read_bytes()).hexdigest()


def plain_csv_entries(manifest: dict, *, min_rows: int = 0) -> list[dict]:
    return [
        f
        for f in manifest["files"]
        if f["format"] == "csv" and f.get("compression", "none") == "none" and f["row_count"] >= min_rows
    ]


def pick(rng: np.random.Generator, items: list):
    return items[int(rng.integers(0, len(items)))]


def read_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
