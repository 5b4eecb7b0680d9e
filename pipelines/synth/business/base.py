"""What a business simulation hands back for one period, besides the legs it booked."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass
class PeriodOut:
    loans: pl.DataFrame | None = None  # typed loans filing (P2P, CF)
    investments: pl.DataFrame | None = None  # typed investments filing (P2P, CF, WM)
    aum: np.ndarray | None = None  # WM: assets under management at each day's end (cents)
    net_redemptions: np.ndarray | None = None  # WM: redemptions - subscriptions per day (cents)
    opex_daily: int = 0  # typical daily operating outflow (cents), for liquidity
    fee_income: int = 0  # fees earned in the period (cents)
