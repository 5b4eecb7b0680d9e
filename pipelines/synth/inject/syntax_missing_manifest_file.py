"""syntax.missing_manifest_file: v1's manifest lists a file that is not in the package; v2 is complete."""

from __future__ import annotations

from pathlib import Path

from pipelines.synth.inject._files import pick
from pipelines.synth.inject.base import Context, Injector, register


@register
class MissingManifestFile(Injector):
    name = "syntax.missing_manifest_file"
    expected = ("S*",)
    resubmits = True

    def break_files(self, ctx: Context, folder: Path, manifest: dict) -> None:
        entry = pick(ctx.rng, manifest["files"])
        (folder / entry["path"]).unlink()
