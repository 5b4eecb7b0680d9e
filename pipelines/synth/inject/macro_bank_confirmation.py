"""macro.bank_confirmation: on two consecutive working days a PAY institution's central reserve account
(RESERVE_CENTRAL) is confirmed by the bank above its filed closing (X-03, rule M003; the break itself is
RES-003). Only bank_confirmed_closing changes: every ledger identity still holds."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from pipelines.business_calendar import is_working_day
from pipelines.synth.inject.base import Context, Injector, register


@register
class BankConfirmation(Injector):
    name = "macro.bank_confirmation"
    expected = ("X-03", "RES-003")
    ent_types = ("PAY",)

    def adjust_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> None:
        accounts = tables["accounts"]
        reserve = accounts.filter(pl.col("account_class") == "RESERVE_CENTRAL")["account_id"][0]
        bal = tables["account_balances"]
        days = sorted(bal.filter(pl.col("account_id") == reserve)["biz_date"].to_list())
        # the business calendar's working days: two consecutive calendar days, each the other's
        # neighbouring working day (RES-003 compares a break with the next working day's)
        starts = [
            d
            for i, d in enumerate(days[:-1])
            if days[i + 1] == d + timedelta(days=1) and is_working_day(d) and is_working_day(days[i + 1])
        ]
        first = starts[int(ctx.rng.integers(0, len(starts)))]
        picked = [first, first + timedelta(days=1)]
        delta = int(ctx.rng.integers(50_000, 5_000_000))  # CNY 500 to 50,000 (cents)
        hit = (pl.col("account_id") == reserve) & pl.col("biz_date").is_in(picked)
        tables["account_balances"] = bal.with_columns(
            bank_confirmed_closing=pl.when(hit)
            .then(pl.col("closing") + delta)
            .otherwise(pl.col("bank_confirmed_closing"))
        )
        ctx.case.records = {"account_balances": [f"{reserve}|{d.isoformat()}" for d in picked]}
