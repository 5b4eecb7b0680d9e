"""syntax.row_count_mismatch: v1's manifest row_count of one file is off by 1-5 rows (the bytes and their
sha256 are right); v2 is correct."""

from __future__ import annotations

from pathlib import Path

from pipelines.synth.inject._files import pick
from pipelines.synth.inject.base import Context, Injector, register


@register
class RowCountMismatch(Injector):
    name = "syntax.row_count_mismatch"
    expected = ("S*",)
    resubmits = True

    def break_files(self, ctx: Context, folder: Path, manifest: dict) -> None:
        entry = pick(ctx.rng, manifest["files"])
        entry["row_count"] += int(ctx.rng.integers(1, 6))
