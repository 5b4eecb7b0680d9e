"""aml.round_trip: three new corporate customers A, B, C; A (funded from its own account the day before)
pays B CNY 100-300k, B pays C 95% of it some 53-60 h later and C pays A 90% of it as long again after
(A -> B -> C -> A over about five days). Each hop waits more than 48 h, so no one is a pass-through.
Each takes what it holds to its own bank account on the last day."""

from __future__ import annotations

import polars as pl

from pipelines.synth import aml_patterns as p
from pipelines.synth.inject.base import Context, Injector, register
from pipelines.synth.ledger import Ledger
from pipelines.synth.tables import ids

CNY = 100
SHARES = (1.0, 0.95, 0.9)  # of the first hop, hop by hop


@register
class RoundTrip(Injector):
    name = "aml.round_trip"
    expected = ("AML-005",)

    def adjust_legs(self, ctx: Context, lg: Ledger) -> None:
        rng, period, st = ctx.rng, ctx.period, ctx.state
        day = int(rng.integers(1, period.ndays - 9))
        party, acct = p.customers(st, rng, 3, period.first_ord + day - 1, legal=True)
        amt = int(rng.uniform(100_000, 300_000) * CNY)
        p.receive(
            lg,
            st,
            t=p.at(day - 1, rng),
            sender=party[0],
            acct=acct[0],
            owner=party[0],
            amt=amt,
            self_funded=True,
        )
        hops = [int(amt * share) for share in SHARES]
        t = p.at(day, rng, 9, 12)
        for k, hop in enumerate(hops):
            a, b = k, (k + 1) % 3
            p.transfer(lg, t=t, dr=acct[a], cr=acct[b], payer=party[a], payee=party[b], amt=hop)
            t += int(rng.integers(53, 61)) * 3600
        held = (amt - hops[0] + hops[2], hops[0] - hops[1], hops[1] - hops[2])
        for k in range(3):
            p.settle(lg, st, period, acct=acct[k], owner=party[k], amt=held[k])
        ctx.case.parties = ids("party", party[:1]).to_list()
        ctx.aml_party = party

    def adjust_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> None:
        ctx.case.records = {"transactions": p.case_txns(tables, ctx.aml_party, purpose="payment")}
