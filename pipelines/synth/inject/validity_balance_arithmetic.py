"""validity.balance_arithmetic: in v1 one customer account's period row has closing != opening + credits -
debits (credits and debits still match the legs; control totals and checksums are recomputed), so only
X-01 fires; v2 is correct."""

from __future__ import annotations

import polars as pl

from pipelines.synth.inject.base import Context, Injector, register


@register
class BalanceArithmetic(Injector):
    name = "validity.balance_arithmetic"
    expected = ("X-01",)
    resubmits = True

    def break_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        bal = tables["account_balances"].with_row_index("_i")
        rows = bal.filter(pl.col("bank_confirmed_closing").is_null() & (pl.col("closing") > 0))
        if rows.height == 0:
            rows = bal.filter(pl.col("bank_confirmed_closing").is_null())
        pick = rows.row(int(ctx.rng.integers(0, rows.height)), named=True)
        delta = int(ctx.rng.integers(100, 10_000)) + pick["closing"] // int(ctx.rng.integers(20, 100))
        fixed = bal.with_columns(
            closing=pl.when(pl.col("_i") == pick["_i"])
            .then(pl.col("closing") + delta)
            .otherwise(pl.col("closing"))
        ).drop("_i")
        ctx.case.records = {"account_balances": [f"{pick['account_id']}|{pick['biz_date'].isoformat()}"]}
        return {**tables, "account_balances": fixed}
