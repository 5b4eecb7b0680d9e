"""macro.balance_vs_ledger: in v1 the own-funds account's credits on one day exceed the day's bank legs
(X-01, rule V026). The row's own arithmetic still holds and the following days carry the difference on
(openings, closings and bank confirmations), so nothing else breaks; v2 is correct."""

from __future__ import annotations

import polars as pl

from pipelines.synth.inject.base import Context, Injector, register


@register
class BalanceVsLedger(Injector):
    name = "macro.balance_vs_ledger"
    expected = ("X-01",)
    resubmits = True

    def break_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        own = tables["accounts"].filter(pl.col("account_class") == "OWN_FUNDS")["account_id"][0]
        bal = tables["account_balances"]
        days = sorted(bal.filter(pl.col("account_id") == own)["biz_date"].to_list())
        day = days[int(ctx.rng.integers(0, len(days)))]
        delta = int(ctx.rng.integers(10_000, 1_000_000))  # CNY 100 to 10,000 (cents)
        mine = pl.col("account_id") == own
        after = mine & (pl.col("biz_date") > day)
        on = mine & (pl.col("biz_date") == day)
        shifted = bal.with_columns(
            opening=pl.when(after).then(pl.col("opening") + delta).otherwise(pl.col("opening")),
            credits=pl.when(on).then(pl.col("credits") + delta).otherwise(pl.col("credits")),
            closing=pl.when(after | on).then(pl.col("closing") + delta).otherwise(pl.col("closing")),
            bank_confirmed_closing=pl.when((after | on) & pl.col("bank_confirmed_closing").is_not_null())
            .then(pl.col("bank_confirmed_closing") + delta)
            .otherwise(pl.col("bank_confirmed_closing")),
        )
        ctx.case.records = {"account_balances": [f"{own}|{day.isoformat()}"]}
        return {**tables, "account_balances": shifted}
