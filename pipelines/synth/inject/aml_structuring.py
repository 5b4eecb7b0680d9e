"""aml.structuring: a new customer funded by a top-up from their own card the day before sends four
transfers of 0.85-0.95 x the natural-person domestic threshold to four different people within five days,
one a day (each day's total stays below the threshold); the account ends empty."""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.synth import aml_patterns as p
from pipelines.synth.business.common import T_NATURAL
from pipelines.synth.inject.base import Context, Injector, register
from pipelines.synth.ledger import Ledger
from pipelines.synth.tables import ids

DAYS = (0, 1, 3, 4)


@register
class Structuring(Injector):
    name = "aml.structuring"
    expected = ("AML-002",)

    def adjust_legs(self, ctx: Context, lg: Ledger) -> None:
        rng, period, st = ctx.rng, ctx.period, ctx.state
        day = int(rng.integers(2, period.ndays - 6))
        party, acct = p.customers(st, rng, 1, period.first_ord + day - 1)
        receivers = p.outsiders(st, rng, len(DAYS), period.first_ord + day)
        amts = (T_NATURAL * rng.uniform(0.85, 0.95, len(DAYS))).astype(np.int64)
        total = int(amts.sum())
        p.receive(
            lg, st, t=p.at(day - 1, rng), sender=party, acct=acct, owner=party, amt=total, self_funded=True
        )
        for k, offset in enumerate(DAYS):
            p.send(
                lg,
                st,
                t=p.at(day + offset, rng),
                acct=acct,
                owner=party,
                receiver=receivers[k],
                amt=int(amts[k]),
            )
        ctx.case.parties = ids("party", party).to_list()
        ctx.aml_party = party

    def adjust_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> None:
        ctx.case.records = {"transactions": p.case_txns(tables, ctx.aml_party, purpose="withdrawal")}
