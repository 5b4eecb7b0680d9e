"""Balances derived from the legs (X-01): own accounts daily, customer accounts once per period, and the
daily customer totals that reserves (X-02) and custody (X-04) must cover."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.synth.books import CLS, AccountBook
from pipelines.synth.periods import Period
from pipelines.synth.tables import dates


@dataclass
class Balances:
    table: pl.DataFrame  # account_balances, typed (cents)
    customer_total: np.ndarray  # derived customer total at each day's end (cents), length ndays
    own_daily: dict[int, np.ndarray]  # own account index -> closing per day (cents; 0 before it opens)
    closing: np.ndarray  # every account's balance at period end (cents)
    last_activity: np.ndarray  # ordinal of each account's last ok leg up to period end, or -1


def derive(
    legs: pl.DataFrame, accounts: AccountBook, opening: np.ndarray, period: Period, enterprise_id: str
) -> Balances:
    n_acc = len(accounts)
    nd = period.ndays
    opening = np.concatenate([opening, np.zeros(n_acc - len(opening), np.int64)])
    existing = accounts.open <= period.last_ord
    customer = accounts.is_customer()
    opening = np.where(accounts.open < period.first_ord, opening, 0)

    ok = ~legs["failed"].to_numpy()
    cust = legs["cust"].to_numpy()
    dr, cr = legs["dr"].to_numpy(), legs["cr"].to_numpy()
    amt, day = legs["amt"].to_numpy(), legs["day"].to_numpy()

    # customer accounts: period totals of ok customer legs
    cl = ok & cust
    dr_c = cl & (dr >= 0) & customer[np.maximum(dr, 0)]
    cr_c = cl & (cr >= 0) & customer[np.maximum(cr, 0)]
    c_debits = np.bincount(dr[dr_c], weights=amt[dr_c], minlength=n_acc).astype(np.int64)
    c_credits = np.bincount(cr[cr_c], weights=amt[cr_c], minlength=n_acc).astype(np.int64)
    flow = np.bincount(day[cr_c], weights=amt[cr_c], minlength=nd) - np.bincount(
        day[dr_c], weights=amt[dr_c], minlength=nd
    )
    customer_total = (opening[customer & existing].sum() + np.cumsum(flow)).astype(np.int64)

    # own accounts: daily totals of ok bank legs
    bl = ok & ~cust
    own_idx = np.flatnonzero(~customer & existing)
    pos = np.full(n_acc, -1)
    pos[own_idx] = np.arange(len(own_idx))
    grid = len(own_idx) * nd
    dr_o = bl & (dr >= 0)
    cr_o = bl & (cr >= 0)
    if dr_o.any() and (pos[dr[dr_o]] < 0).any() or cr_o.any() and (pos[cr[cr_o]] < 0).any():
        raise AssertionError("a bank leg names a customer account or an account not yet open")
    o_debits = (
        np.bincount(pos[dr[dr_o]] * nd + day[dr_o], weights=amt[dr_o], minlength=grid)
        .astype(np.int64)
        .reshape(len(own_idx), nd)
    )
    o_credits = (
        np.bincount(pos[cr[cr_o]] * nd + day[cr_o], weights=amt[cr_o], minlength=grid)
        .astype(np.int64)
        .reshape(len(own_idx), nd)
    )

    closing = accounts.balance.copy()
    own_daily: dict[int, np.ndarray] = {}
    parts = []
    for k, a in enumerate(own_idx):
        first = max(int(accounts.open[a]) - period.first_ord, 0)
        net = o_credits[k] - o_debits[k]
        if np.any((o_credits[k][:first] != 0) | (o_debits[k][:first] != 0)):
            raise AssertionError(f"account {accounts.name[a]} moves before it opens")
        close = opening[a] + np.cumsum(net)
        close[:first] = 0
        own_daily[int(a)] = close
        open_ = np.concatenate([[opening[a]], close[:-1]])
        parts.append(
            pl.DataFrame(
                {
                    "account_id": [accounts.name[a]] * (nd - first),
                    "biz_date": dates(period.first_ord + np.arange(first, nd)),
                    "opening": open_[first:],
                    "credits": o_credits[k][first:],
                    "debits": o_debits[k][first:],
                    "closing": close[first:],
                    "bank_confirmed_closing": close[first:],
                }
            )
        )
        closing[a] = close[-1]
    cust_idx = np.flatnonzero(customer & existing)
    c_close = opening[cust_idx] + c_credits[cust_idx] - c_debits[cust_idx]
    closing[cust_idx] = c_close
    parts.append(
        pl.DataFrame(
            {
                "account_id": pl.Series([accounts.name[a] for a in cust_idx], dtype=pl.String),
                "biz_date": dates(np.full(len(cust_idx), period.last_ord)),
                "opening": opening[cust_idx],
                "credits": c_credits[cust_idx],
                "debits": c_debits[cust_idx],
                "closing": c_close,
                "bank_confirmed_closing": pl.Series([None] * len(cust_idx), dtype=pl.Int64),
            }
        )
    )
    table = pl.concat(parts, how="vertical").with_columns(enterprise_id=pl.lit(enterprise_id))

    # last activity: the day of each account's last ok leg (customer legs for customer accounts)
    last = accounts.last_activity.copy()
    for side in (dr, cr):
        m = ok & (side >= 0)
        m &= np.where(customer[np.maximum(side, 0)], cust, True)
        if m.any():
            np.maximum.at(last, side[m], period.first_ord + day[m])
    return Balances(table, customer_total, own_daily, closing, last)


def negative_rows(table: pl.DataFrame, accounts: AccountBook) -> pl.DataFrame:
    """Rows with a negative opening or closing on an account that is not SETTLEMENT (should be none)."""
    settlement = {accounts.name[i] for i in np.flatnonzero(accounts.cls == CLS["SETTLEMENT"])}
    return table.filter(
        ((pl.col("closing") < 0) | (pl.col("opening") < 0)) & ~pl.col("account_id").is_in(list(settlement))
    )
