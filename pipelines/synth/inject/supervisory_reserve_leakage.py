"""supervisory.reserve_leakage: a PAY institution diverts part of a working day's top-ups from
RESERVE_BANK to its OWN_FUNDS (a bank leg with no customer leg, purpose payment) instead of sweeping them
to the central reserve, and puts the money back into RESERVE_CENTRAL a few days later. Reserves fall
short of the wallets in between (RES-001, and RES-002 on the working days); every ledger identity holds
and the next period opens clean."""

from __future__ import annotations

import numpy as np

from pipelines.business_calendar import is_working_ordinal
from pipelines.synth.balances import derive
from pipelines.synth.inject.base import Context, Injector, register
from pipelines.synth.ledger import CH, PUR, Ledger
from pipelines.synth.transactions import finalize


@register
class ReserveLeakage(Injector):
    name = "supervisory.reserve_leakage"
    expected = ("RES-005", "RES-001", "RES-002")
    ent_types = ("PAY",)

    def adjust_legs(self, ctx: Context, lg: Ledger) -> None:
        st, period = ctx.state, ctx.period
        rc, rb, of = st.own["RC1"], st.own["RB1"], st.own["OF1"]
        cols = lg.columns()
        day = cols["t"] // 86400
        sweep = np.flatnonzero(
            (~cols["cust"]) & (cols["dr"] == rb) & (cols["cr"] == rc) & (cols["pur"] == PUR["internal"])
        )
        nd = period.ndays
        days = [
            i for i in sweep if 2 <= day[i] < nd - 6 and is_working_ordinal(period.first_ord + int(day[i]))
        ]
        if not days:
            raise RuntimeError(f"{ctx.case.case_id}: no working day with top-ups to divert")
        i = max(days, key=lambda j: int(cols["amt"][j]))  # the day with the most top-ups
        d1 = int(day[i])
        legs = finalize(lg, enterprise_id=ctx.plan.enterprise_id, period=period)
        wallets = derive(legs, st.accounts, ctx.opening, period, ctx.plan.enterprise_id).customer_total
        share = float(ctx.rng.uniform(0.03, 0.10))
        amount = int(min(wallets[d1] * share, cols["amt"][i] * 0.9))  # the sweep keeps an amount > 0
        if amount <= 0:
            raise RuntimeError(f"{ctx.case.case_id}: nothing to divert")
        d2 = d1 + int(ctx.rng.integers(2, 6))
        # the sweep of that day carries less; the difference goes to OWN_FUNDS just before it
        cols["amt"][i] -= amount
        lg.replace(cols)
        t1 = int(cols["t"][i]) - int(ctx.rng.integers(60, 3600))
        lg.add(
            ev=lg.new_events(1),
            cust=False,
            t=t1,
            dr=rb,
            cr=of,
            amt=amount,
            ch=CH["transfer"],
            pur=PUR["payment"],
        )
        t2 = d2 * 86400 + 10 * 3600 + int(ctx.rng.integers(0, 3600))
        lg.add(
            ev=lg.new_events(1),
            cust=False,
            t=t2,
            dr=of,
            cr=rc,
            amt=amount,
            ch=CH["transfer"],
            pur=PUR["internal"],
        )
