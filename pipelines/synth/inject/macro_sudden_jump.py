"""macro.sudden_jump: one enterprise-period's volumes x 20 against its history (FQ-006, rule M009 on the
transactions.amount_cny control total: 20 x the larger of the period's clean total and the median of its
earlier filed totals). New customers top up amounts drawn log-uniformly over three whole
decades (CNY 400 to 400,000: Benford's first digits, so FQ-005 stays quiet; below the natural-person
large-value threshold and its structuring band) and withdraw them a dwell time later, until the period's legs move 20 times that base (at
least 12 x M009's min_size, so a small firm's jump clears that floor ten-fold too); balances, reserves or
custody follow the legs. Only where the enterprise has min_history filed periods before (else M009 SKIPs)."""

from __future__ import annotations

import numpy as np

from pipelines.quality.thresholds import threshold
from pipelines.synth.inject._round_trips import add_round_trips
from pipelines.synth.inject.base import Context, Injector, register
from pipelines.synth.ledger import Ledger

FACTOR = 20
DECADES = (4, 7)  # 4 x 10^u cents: CNY 400 to 400,000, below 0.8 x T_NATURAL (common.avoid_bands)


@register
class SuddenJump(Injector):
    name = "macro.sudden_jump"
    expected = ("FQ-006",)
    needs_history = True
    stacks = False

    def eligible(self, plan, period_index: int) -> bool:
        return period_index >= int(threshold("*", "min_history"))

    def adjust_legs(self, ctx: Context, lg: Ledger) -> None:
        total = int(lg.columns()["amt"].sum())  # the control total: every leg, customer and bank
        # x FACTOR against the larger of this period's clean total and the median M009 compares with (the
        # enterprise's filed totals of its last max_history periods): clean months swing two- to three-fold
        history = ctx.state.filed_totals[-int(threshold("FQ-006", "max_history")) :]
        base = max(total, int(np.median(history)) if history else 0)
        floor = 12 * int(threshold("FQ-006", "min_size")) * 100
        target = max(FACTOR * base - total, floor) // 4  # a round trip books four legs of its amount
        drawn = np.zeros(0, np.int64)
        while drawn.sum() < target:
            more = np.floor(4 * 10 ** ctx.rng.uniform(*DECADES, 256)).astype(np.int64)
            drawn = np.r_[drawn, more]
        n = int(np.searchsorted(np.cumsum(drawn), target)) + 1
        add_round_trips(ctx, lg, drawn[:n])
