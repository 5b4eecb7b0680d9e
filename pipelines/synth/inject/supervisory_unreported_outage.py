"""supervisory.unreported_outage: nothing is booked for three hours inside the enterprise's busiest
weekday hours and no incident is filed (OPS-003). The legs that fell into the window are booked just after
it, on the same day, as the generator does for a filed outage (balances and daily totals unchanged);
incidents overlapping the window (daytime degradations) are not filed. Only enterprises large enough to
have busy hours (OPS-003: a slot median of at least 20 ok customer legs) are chosen."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl

from pipelines.synth.inject.base import Context, Injector, register
from pipelines.synth.ledger import Ledger
from pipelines.synth.population import EnterprisePlan
from pipelines.synth.transactions import SHIFT_SPREAD

GAP_HOURS = 3
MIN_LEGS_PER_MONTH = 20_000  # busy hours of 30+ legs (at 12,000-15,000 the peak slots median 15-20 legs)


def busiest_window(t: np.ndarray, first_weekday: int, ndays: int) -> tuple[int, int]:
    """(day, first hour) of a GAP_HOURS window whose (weekday, hour) slots have the highest smallest
    median leg count over the period; the day is the slot's weekday in the period's middle weeks."""
    counts = np.zeros((ndays, 24), np.int64)
    np.add.at(counts, (t // 86400, (t % 86400) // 3600), 1)
    weekday = (first_weekday + np.arange(ndays)) % 7
    medians = np.zeros((7, 24))
    for w in range(7):
        medians[w] = np.median(counts[weekday == w], axis=0)
    best = max(
        ((w, h) for w in range(5) for h in range(6, 24 - GAP_HOURS)),  # Monday-Friday, daytime
        key=lambda wh: (medians[wh[0], wh[1] : wh[1] + GAP_HOURS].min(), -wh[0], -wh[1]),
    )
    days = np.flatnonzero(weekday == best[0])
    return int(days[len(days) // 2]), best[1]


@register
class UnreportedOutage(Injector):
    name = "supervisory.unreported_outage"
    expected = ("OPS-003",)

    def __init__(self) -> None:
        self._windows: dict[str, tuple[datetime, datetime]] = {}

    def eligible(self, plan: EnterprisePlan, period_index: int) -> bool:
        return plan.legs_per_month >= MIN_LEGS_PER_MONTH

    def adjust_legs(self, ctx: Context, lg: Ledger) -> None:
        cols = lg.columns()
        t = cols["t"].copy()
        ok_customer = cols["cust"] & ~cols["failed"]
        day, hour = busiest_window(t[ok_customer], ctx.period.first.weekday(), ctx.period.ndays)
        start = day * 86400 + hour * 3600
        end = start + GAP_HOURS * 3600
        moved = (t >= start) & (t < end) & ~cols["failed"]
        t[moved] = np.minimum(end + (t[moved] - start) % SHIFT_SPREAD, day * 86400 + 86399)
        cols["t"] = t
        lg.replace(cols)
        first = datetime.combine(ctx.period.first, datetime.min.time())
        self._windows[ctx.case.case_id] = (first + timedelta(seconds=start), first + timedelta(seconds=end))

    def adjust_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> None:
        start, end = self._windows.pop(ctx.case.case_id)
        inc = tables["incidents"]
        covers = (pl.col("started_at") < end) & (pl.col("ended_at").fill_null(end) > start)
        tables["incidents"] = inc.filter(~covers)
        ctx.case.records = {"window": [start.isoformat(sep=" "), end.isoformat(sep=" ")]}
