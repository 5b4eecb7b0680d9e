"""syntax.bad_type: in v1 one account_balances row carries its biz_date as `31/10/2026` or its closing with
a thousands separator (`1,234.00`); the sha256 matches the bytes; v2 is correct."""

from __future__ import annotations

from pathlib import Path

from pipelines.synth.inject._files import read_rows, rehash, write_rows
from pipelines.synth.inject.base import Context, Injector, register


def _thousands(money: str) -> str:
    sign, digits = ("-", money[1:]) if money.startswith("-") else ("", money)
    whole, cents = digits.split(".")
    return f"{sign}{int(whole):,}.{cents}"


@register
class BadType(Injector):
    name = "syntax.bad_type"
    expected = ("S*",)
    resubmits = True

    def break_files(self, ctx: Context, folder: Path, manifest: dict) -> None:
        entry = next(f for f in manifest["files"] if f["filing_type"] == "account_balances")
        path = folder / entry["path"]
        rows = read_rows(path)
        head = rows[0]
        date_col, closing_col = head.index("biz_date"), head.index("closing")
        big = [i for i in range(1, len(rows)) if abs(float(rows[i][closing_col])) >= 1000]
        if big and ctx.rng.random() < 0.5:
            i = big[int(ctx.rng.integers(0, len(big)))]
            rows[i][closing_col] = _thousands(rows[i][closing_col])
        else:
            i = int(ctx.rng.integers(1, len(rows)))
            y, m, d = rows[i][date_col].split("-")
            rows[i][date_col] = f"{d}/{m}/{y}"
        write_rows(path, rows)
        rehash(folder, entry)
