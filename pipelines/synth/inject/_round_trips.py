"""Helper of the amount-pattern injections (`quality.round_numbers`, `quality.benford`): new customers each
top up an amount from their own card and withdraw it to the same card 3-5 days later (outside AML-003's
48-hour pass-through window; amounts stay below its CNY 50k floor anyway), so the period
gains ok customer legs with the chosen amounts while every ledger identity holds, the new accounts end at
zero (the business simulation's balances stay exact) and reserves or custody follow the legs."""

from __future__ import annotations

import numpy as np

from pipelines.synth import aml_patterns as p
from pipelines.synth.inject.base import Context
from pipelines.synth.ledger import Ledger


def ok_customer_legs(lg: Ledger) -> int:
    """Ok customer legs with a positive amount booked so far (what rule Q001 and FQ-007 count)."""
    c = lg.columns()
    return int((c["cust"] & ~c["failed"] & (c["amt"] > 0)).sum())


def add_round_trips(ctx: Context, lg: Ledger, amounts: np.ndarray) -> np.ndarray:
    """One new customer per amount: a top-up on a random day, the withdrawal of the same amount 3-5 days
    later. Complaints are drawn per active customer: the multiplier keeps their number where the
    enterprise's own customers put it. Returns the new parties."""
    st, rng, period = ctx.state, ctx.rng, ctx.period
    n = len(amounts)
    acc = st.accounts
    c = lg.columns()
    ok = c["cust"] & ~c["failed"]
    touched = np.unique(np.r_[c["dr"][ok], c["cr"][ok]])
    touched = touched[(touched >= 0) & (touched < len(acc))]
    existing = np.unique(acc.owner[touched[acc.is_customer()[touched]]]).size
    party, acct = p.customers(st, rng, n, period.first_ord)
    day_in = rng.integers(0, period.ndays - 5, n)
    day_out = day_in + rng.integers(3, 6, n)
    t_in = day_in * p.DAY + rng.integers(8 * 3600, 21 * 3600, n)
    t_out = day_out * p.DAY + rng.integers(8 * 3600, 21 * 3600, n)
    p.receive(lg, st, t=t_in, sender=party, acct=acct, owner=party, amt=amounts, self_funded=True)
    p.send(lg, st, t=t_out, acct=acct, owner=party, receiver=party, amt=amounts)
    ctx.complaint_multiplier *= existing / (existing + n) if existing else 1.0
    return party
