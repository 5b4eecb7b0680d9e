"""aml.fan_in: 15 people send a new customer CNY 8-20k each over three days; on the fourth day it forwards
85-90% of the total to a single receiver (FATF fan-in). The inflows span more than 48 h, so no 48-hour
window looks like a pass-through; the rest goes to the customer's own card on the last day (3+ days on)."""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.synth import aml_patterns as p
from pipelines.synth.inject.base import Context, Injector, register
from pipelines.synth.ledger import Ledger
from pipelines.synth.tables import ids

CNY = 100
SENDERS = 15


@register
class FanIn(Injector):
    name = "aml.fan_in"
    expected = ("AML-004",)

    def adjust_legs(self, ctx: Context, lg: Ledger) -> None:
        rng, period, st = ctx.rng, ctx.period, ctx.state
        day = int(rng.integers(0, period.ndays - 8))
        party, acct = p.customers(st, rng, 1, period.first_ord + day)
        senders = p.outsiders(st, rng, SENDERS, period.first_ord + day)
        receiver = p.outsiders(st, rng, 1, period.first_ord + day)
        amts = (rng.uniform(8_000, 20_000, SENDERS) * CNY).astype(np.int64)
        start = day * p.DAY + 9 * 3600
        for k in range(SENDERS):
            t = start + k * (72 * 3600 // SENDERS) + int(rng.integers(0, 600))
            p.receive(lg, st, t=t, sender=senders[k], acct=acct, owner=party, amt=int(amts[k]))
        out = int(amts.sum() * rng.uniform(0.85, 0.9))
        p.send(lg, st, t=start + 96 * 3600, acct=acct, owner=party, receiver=receiver, amt=out)
        p.settle(lg, st, period, acct=acct, owner=party, amt=int(amts.sum()) - out)
        ctx.case.parties = ids("party", party).to_list()
        ctx.aml_party = party

    def adjust_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> None:
        ctx.case.records = {"transactions": p.case_txns(tables, ctx.aml_party, between_parties=True)}
