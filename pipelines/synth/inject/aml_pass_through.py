"""aml.pass_through: a new customer receives about CNY 300k from one person and sends 92-97% of it on to
another within hours (FinCEN funnel account); the rest goes to their own card on the last day."""

from __future__ import annotations

import polars as pl

from pipelines.synth import aml_patterns as p
from pipelines.synth.inject.base import Context, Injector, register
from pipelines.synth.ledger import Ledger
from pipelines.synth.tables import ids

CNY = 100  # cents


@register
class PassThrough(Injector):
    name = "aml.pass_through"
    expected = ("AML-003",)

    def adjust_legs(self, ctx: Context, lg: Ledger) -> None:
        rng, period, st = ctx.rng, ctx.period, ctx.state
        day = int(rng.integers(1, period.ndays - 4))
        party, acct = p.customers(st, rng, 1, period.first_ord + day)
        sender, receiver = p.outsiders(st, rng, 2, period.first_ord + day)
        amt = int(rng.uniform(250_000, 350_000) * CNY)
        t_in = p.at(day, rng, 8, 12)
        p.receive(lg, st, t=t_in, sender=sender, acct=acct, owner=party, amt=amt)
        out = int(amt * rng.uniform(0.92, 0.97))
        p.send(
            lg,
            st,
            t=t_in + int(rng.integers(2, 9)) * 3600,
            acct=acct,
            owner=party,
            receiver=receiver,
            amt=out,
        )
        p.settle(lg, st, period, acct=acct, owner=party, amt=amt - out)
        ctx.case.parties = ids("party", party).to_list()
        ctx.aml_party = party

    def adjust_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> None:
        ctx.case.records = {"transactions": p.case_txns(tables, ctx.aml_party, between_parties=True)}
