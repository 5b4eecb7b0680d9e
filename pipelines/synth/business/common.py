"""Helpers shared by the business simulations."""

from __future__ import annotations

import numpy as np

from pipelines.business_calendar import is_working_ordinal
from pipelines.synth.ledger import PUR, bank_external

# PBOC large-value thresholds (indicators.md, AML): cash, legal-person transfer, natural-person domestic and
# cross-border transfer, in cents.
T_CASH, T_LEGAL, T_NATURAL, T_NATURAL_XB = 5_000_000, 200_000_000, 50_000_000, 20_000_000
# Clean amounts of typology-relevant legs stay out of [0.8 T, T) (no accidental structuring). No clean leg
# uses the cash channel, so the cash band does not apply; the cross-border one only to cross-border legs.
_BANDS = tuple((int(0.8 * t), t) for t in (T_LEGAL, T_NATURAL))
_XB_BAND = (int(0.8 * T_NATURAL_XB), T_NATURAL_XB)


def avoid_bands(amt: np.ndarray, xborder: np.ndarray | bool = True) -> np.ndarray:
    """Amounts in a band scaled down to 70% (below it)."""
    out = np.asarray(amt, np.int64).copy()
    for lo, hi in _BANDS:
        m = (out >= lo) & (out < hi)
        out[m] = (out[m] * 7) // 10
    m = (out >= _XB_BAND[0]) & (out < _XB_BAND[1]) & xborder
    out[m] = (out[m] * 7) // 10
    return out


def avoid_bands_up(amt: np.ndarray, xborder: np.ndarray | bool = True) -> np.ndarray:
    """Amounts that must cover a need: ones in a band are raised above it (to T or more)."""
    out = np.asarray(amt, np.int64).copy()
    m = (out >= _XB_BAND[0]) & (out < _XB_BAND[1]) & xborder
    out[m] += _XB_BAND[1] - _XB_BAND[0]
    for lo, hi in reversed(_BANDS):
        m = (out >= lo) & (out < hi)
        out[m] += hi - lo
    return out


def group_cumsum(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Running sum of values within runs of equal (sorted) group ids."""
    cs = np.cumsum(values)
    if len(values) == 0:
        return cs
    start = np.ones(len(groups), bool)
    start[1:] = groups[1:] != groups[:-1]
    base = np.where(start, cs - values, 0)
    return cs - np.maximum.accumulate(base)


def accept_within(
    rng: np.random.Generator, who: np.ndarray, amt: np.ndarray, limit: np.ndarray
) -> np.ndarray:
    """Mask of items accepted when each owner's items, in random order, may add up to its limit."""
    order = rng.permutation(len(who))
    order = order[np.argsort(who[order], kind="stable")]
    ok_sorted = group_cumsum(who[order], amt[order]) <= limit[who[order]]
    ok = np.zeros(len(who), bool)
    ok[order] = ok_sorted
    return ok


def scale_to_budget(prop: np.ndarray, budget: float, minimum: int) -> np.ndarray:
    """Proposed outflows scaled down so their sum stays within budget; ones below minimum are dropped."""
    total = prop.sum()
    if total <= 0 or budget <= 0:
        return np.zeros_like(prop)
    out = np.floor(prop * min(1.0, budget / total)).astype(np.int64)
    return np.where(out >= minimum, out, 0)


def split_proportional(total: np.ndarray, weights: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Split each group's integer total over its members in proportion to integer weights (largest
    remainder, exact). `group` must be sorted; `total` is indexed by group id."""
    n = len(group)
    if n == 0:
        return np.zeros(0, np.int64)
    total = np.asarray(total, np.int64)
    weights = np.asarray(weights, np.int64)
    wsum = np.bincount(group, weights=weights, minlength=len(total)).astype(np.int64)
    ws = np.where(wsum[group] > 0, wsum[group], 1)
    if float(total.max(initial=0)) * float(weights.max(initial=0)) >= 9e18:
        raise OverflowError("split_proportional: amounts too large for exact int64 arithmetic")
    prod = total[group] * weights
    base = prod // ws
    frac = (prod % ws) / ws
    rem = total - np.bincount(group, weights=base, minlength=len(total)).astype(np.int64)
    order = np.lexsort((-frac, group))
    g_sorted = group[order]
    rank = np.arange(n) - np.searchsorted(g_sorted, g_sorted, side="left")
    extra = np.zeros(n, np.int64)
    extra[order] = (rank < rem[g_sorted]).astype(np.int64)
    return base + extra


def pay_operating_costs(lg, parties, rng, opex_daily, vendors, of, of_bal, base_t: int, day: int) -> int:
    """A working day's operating cost paid from own funds to a vendor (bank leg); returns the amount."""
    if not (is_working_ordinal(day) and opex_daily):
        return 0
    cost = int(min(opex_daily * np.exp(0.5 * rng.standard_normal()), of_bal * 0.02))
    if cost > 0:
        bank_external(
            lg,
            parties,
            t=base_t + int(rng.integers(9 * 3600, 17 * 3600)),
            acct=of,
            counterparty=[vendors[rng.integers(len(vendors))]],
            amt=cost,
            pur=PUR["payment"],
            outgoing=True,
        )
    return max(cost, 0)
