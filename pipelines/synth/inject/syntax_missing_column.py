"""syntax.missing_column: v1 drops one column (not enterprise_id) from one plain CSV file; the manifest's
sha256 matches the delivered bytes; v2 is complete."""

from __future__ import annotations

from pathlib import Path

from pipelines.synth.inject._files import pick, plain_csv_entries, read_rows, rehash, write_rows
from pipelines.synth.inject.base import Context, Injector, register


@register
class MissingColumn(Injector):
    name = "syntax.missing_column"
    expected = ("S*",)
    resubmits = True

    def break_files(self, ctx: Context, folder: Path, manifest: dict) -> None:
        entry = pick(ctx.rng, plain_csv_entries(manifest))
        path = folder / entry["path"]
        rows = read_rows(path)
        col = int(ctx.rng.integers(1, len(rows[0])))
        write_rows(path, [r[:col] + r[col + 1 :] for r in rows])
        rehash(folder, entry)
