"""aml.fan_out: one person sends a new customer CNY 150-250k; over the next four days it pays 95% of it out
to 15 different people (FATF fan-out). Less than a third leaves within 48 h, so it is no pass-through;
the rest goes to the customer's own card on the last day."""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.synth import aml_patterns as p
from pipelines.synth.inject.base import Context, Injector, register
from pipelines.synth.ledger import Ledger
from pipelines.synth.tables import ids

CNY = 100
RECEIVERS = 15


@register
class FanOut(Injector):
    name = "aml.fan_out"
    expected = ("AML-004",)

    def adjust_legs(self, ctx: Context, lg: Ledger) -> None:
        rng, period, st = ctx.rng, ctx.period, ctx.state
        day = int(rng.integers(0, period.ndays - 9))
        party, acct = p.customers(st, rng, 1, period.first_ord + day)
        sender = p.outsiders(st, rng, 1, period.first_ord + day)
        receivers = p.outsiders(st, rng, RECEIVERS, period.first_ord + day)
        amt = int(rng.uniform(150_000, 250_000) * CNY)
        t_in = day * p.DAY + 10 * 3600
        p.receive(lg, st, t=t_in, sender=sender, acct=acct, owner=party, amt=amt)
        outs = np.floor(rng.dirichlet(np.full(RECEIVERS, 5.0)) * amt * 0.95).astype(np.int64)
        for k in range(RECEIVERS):
            t = t_in + 24 * 3600 + k * (96 * 3600 // RECEIVERS) + int(rng.integers(0, 600))
            p.send(lg, st, t=t, acct=acct, owner=party, receiver=receivers[k], amt=int(outs[k]))
        p.settle(lg, st, period, acct=acct, owner=party, amt=amt - int(outs.sum()))
        ctx.case.parties = ids("party", party).to_list()
        ctx.aml_party = party

    def adjust_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> None:
        ctx.case.records = {"transactions": p.case_txns(tables, ctx.aml_party, between_parties=True)}
