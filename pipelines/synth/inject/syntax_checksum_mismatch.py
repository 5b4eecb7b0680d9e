"""syntax.checksum_mismatch: v1's parties file differs by one byte from the sha256 in its manifest (one
hex character of an id_hash changed after hashing); v2 is the correct package."""

from __future__ import annotations

from pathlib import Path

from pipelines.synth.inject.base import Context, Injector, register


@register
class ChecksumMismatch(Injector):
    name = "syntax.checksum_mismatch"
    expected = ("S*",)
    resubmits = True

    def break_files(self, ctx: Context, folder: Path, manifest: dict) -> None:
        entry = next(f for f in manifest["files"] if f["filing_type"] == "parties")
        path = folder / entry["path"]
        lines = path.read_bytes().split(b"\n")
        header = lines[0].decode().split(",")
        col = header.index("id_hash")
        row = 1 + int(ctx.rng.integers(0, entry["row_count"]))
        fields = lines[row].split(b",")
        h = fields[col].decode()
        pos = int(ctx.rng.integers(0, len(h)))
        fields[col] = (h[:pos] + "0123456789abcdef"[(int(h[pos], 16) + 1) % 16] + h[pos + 1 :]).encode()
        lines[row] = b",".join(fields)
        path.write_bytes(b"\n".join(lines))
        ctx.case.records = {"parties": [fields[header.index("party_id")].decode()]}
