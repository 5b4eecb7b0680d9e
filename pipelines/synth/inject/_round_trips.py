"""Helper of the amount-pattern injections (`quality.round_numbers`, `quality.benford`, `macro.sudden_jump`):
new customers each top up an amount from their own card and withdraw it to the same card later, so the
period gains ok customer legs with the chosen amounts while every ledger identity holds, the new accounts
end at zero (the business simulation's balances stay exact) and reserves or custody follow the legs.

The money stays as long as the enterprise's own customer money does (its dwell time: average customer
balance / daily outflow), so balances grow with the flows and the velocity (FLOW-004) stays where it was;
never less than 3 days, outside AML-003's 48-hour pass-through window."""

from __future__ import annotations

import numpy as np

from pipelines.synth import aml_patterns as p
from pipelines.synth.balances import derive
from pipelines.synth.inject.base import Context
from pipelines.synth.ledger import Ledger
from pipelines.synth.transactions import finalize

MIN_HOLD = 3  # days


def ok_customer_legs(lg: Ledger) -> int:
    """Ok customer legs with a positive amount booked so far (what rule Q001 and FQ-007 count)."""
    c = lg.columns()
    return int((c["cust"] & ~c["failed"] & (c["amt"] > 0)).sum())


def _dwell_days(ctx: Context, lg: Ledger) -> int:
    """Average daily customer balance / average daily outflow of the legs booked so far, in whole days."""
    st, period = ctx.state, ctx.period
    legs = finalize(lg, enterprise_id=ctx.plan.enterprise_id, period=period)
    average = derive(legs, st.accounts, ctx.opening, period, ctx.plan.enterprise_id).customer_total.mean()
    c = lg.columns()
    customer = st.accounts.is_customer()
    dr = c["dr"]
    out = c["cust"] & ~c["failed"] & (c["cr"] < 0) & (dr >= 0) & customer[np.maximum(dr, 0)]
    daily_outflow = c["amt"][out].sum() / period.ndays
    if daily_outflow <= 0:
        return period.ndays - 1
    return int(np.clip(round(average / daily_outflow), MIN_HOLD, period.ndays - 1))


def add_round_trips(ctx: Context, lg: Ledger, amounts: np.ndarray) -> np.ndarray:
    """One new customer per amount: a top-up on a random day, the withdrawal of the same amount a dwell
    time later. Complaints are drawn per active customer: the multiplier keeps their number where the
    enterprise's own customers put it. Returns the new parties."""
    st, rng, period = ctx.state, ctx.rng, ctx.period
    n = len(amounts)
    hold = _dwell_days(ctx, lg)
    acc = st.accounts
    c = lg.columns()
    ok = c["cust"] & ~c["failed"]
    touched = np.unique(np.r_[c["dr"][ok], c["cr"][ok]])
    touched = touched[(touched >= 0) & (touched < len(acc))]
    existing = np.unique(acc.owner[touched[acc.is_customer()[touched]]]).size
    party, acct = p.customers(st, rng, n, period.first_ord)
    day_in = rng.integers(0, period.ndays - hold, n)
    t_in = day_in * p.DAY + rng.integers(8 * 3600, 14 * 3600, n)
    t_out = (day_in + hold) * p.DAY + rng.integers(14 * 3600, 21 * 3600, n)
    p.receive(lg, st, t=t_in, sender=party, acct=acct, owner=party, amt=amounts, self_funded=True)
    p.send(lg, st, t=t_out, acct=acct, owner=party, receiver=party, amt=amounts)
    ctx.complaint_multiplier *= existing / (existing + n) if existing else 1.0
    return party
