"""supervisory.liquidity: for 3-6 consecutive days a PAY or WM institution's high-quality liquid assets
fall to 85-97% of its net stressed 30-day outflows (LIQ-001 below 100%). Only hqla changes: it enters no
identity of the filings (the customer balance split of X-12 is untouched). The run-off rates and the
inflow cap are read from the thresholds seed, as the warehouse reads them."""

from __future__ import annotations

from functools import cache

import numpy as np
import polars as pl

from pipelines.reference import read_seed
from pipelines.synth.inject.base import Context, Injector, register


@cache
def lcr_parameters() -> dict[str, float]:
    """LIQ-001's stable_runoff, less_stable_runoff and inflow_cap (rows for every type, open-ended)."""
    rows = [
        r
        for r in read_seed("thresholds.csv")
        if r["indicator_id"] == "LIQ-001" and r["valid_to"] == "9999-12-31"
    ]
    return {r["param"]: float(r["value"]) for r in rows}


@register
class Liquidity(Injector):
    name = "supervisory.liquidity"
    expected = ("LIQ-001",)
    ent_types = ("PAY", "WM")

    def adjust_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> None:
        p = lcr_parameters()
        liq = tables["liquidity"]
        gross = (
            liq["outflows_30d"].to_numpy()
            + p["stable_runoff"] * liq["customer_bal_stable"].to_numpy()
            + p["less_stable_runoff"] * liq["customer_bal_less_stable"].to_numpy()
        )
        net = gross - np.minimum(liq["inflows_30d"].to_numpy(), p["inflow_cap"] * gross)
        n = liq.height
        length = int(ctx.rng.integers(3, 7))
        first = int(ctx.rng.integers(1, n - length))
        days = np.arange(first, first + length)
        hqla = liq["hqla"].to_numpy().copy()
        hqla[days] = np.floor(net[days] * ctx.rng.uniform(0.85, 0.97, length)).astype(np.int64)
        tables["liquidity"] = liq.with_columns(hqla=pl.Series(hqla, dtype=liq["hqla"].dtype))
