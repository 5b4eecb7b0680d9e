"""syntax.undeclared_encoding: v1's enterprise_profile (a Chinese company name) is written in GBK but
declared UTF-8 (the sha256 matches the GBK bytes); v2 is UTF-8."""

from __future__ import annotations

from pathlib import Path

from pipelines.synth.inject._files import rehash
from pipelines.synth.inject.base import Context, Injector, register


@register
class UndeclaredEncoding(Injector):
    name = "syntax.undeclared_encoding"
    expected = ("S*",)
    resubmits = True

    def break_files(self, ctx: Context, folder: Path, manifest: dict) -> None:
        entry = next(f for f in manifest["files"] if f["filing_type"] == "enterprise_profile")
        path = folder / entry["path"]
        data = path.read_text(encoding="utf-8").encode("gbk")
        try:  # irregularities.md: the file must hold bytes that are invalid UTF-8
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise AssertionError(f"{path}: GBK bytes of the profile are valid UTF-8; nothing to detect")
        path.write_bytes(data)
        rehash(folder, entry)
