"""aml.dormant_reactivation: a customer account opened long ago and idle for 190-260 days (its
last_activity_date; it held nothing meanwhile) receives CNY 70-100k from one person and, 3-5 days later,
sends 97% of it to another. The wait is longer than 48 h, so it is no pass-through; the rest goes to the
owner's own card on the last day."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from pipelines.synth import aml_patterns as p
from pipelines.synth.inject.base import Context, Injector, register
from pipelines.synth.ledger import Ledger
from pipelines.synth.tables import ids

CNY = 100


@register
class DormantReactivation(Injector):
    name = "aml.dormant_reactivation"
    expected = ("AML-006",)

    def adjust_legs(self, ctx: Context, lg: Ledger) -> None:
        rng, period, st = ctx.rng, ctx.period, ctx.state
        day = int(rng.integers(0, period.ndays - 10))
        idle = int(rng.integers(190, 261))
        party, acct = p.customers(st, rng, 1, period.first_ord - idle - int(rng.integers(60, 400)))
        sender, receiver = p.outsiders(st, rng, 2, period.first_ord + day)
        amt = int(rng.uniform(70_000, 100_000) * CNY)
        t_in = p.at(day, rng)
        p.receive(lg, st, t=t_in, sender=sender, acct=acct, owner=party, amt=amt)
        out = int(amt * 0.97)
        p.send(
            lg,
            st,
            t=t_in + int(rng.integers(3, 6)) * p.DAY,
            acct=acct,
            owner=party,
            receiver=receiver,
            amt=out,
        )
        p.settle(lg, st, period, acct=acct, owner=party, amt=amt - out)
        ctx.case.parties = ids("party", party).to_list()
        ctx.aml_party, ctx.aml_account, ctx.aml_idle = party, st.accounts.name[int(acct[0])], idle

    def adjust_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> None:
        ctx.case.records = {"transactions": p.case_txns(tables, ctx.aml_party, between_parties=True)}
        last = ctx.period.first - timedelta(days=ctx.aml_idle)
        tables["accounts"] = tables["accounts"].with_columns(
            last_activity_date=pl.when(pl.col("account_id") == ctx.aml_account)
            .then(pl.lit(last))
            .otherwise(pl.col("last_activity_date"))
        )
