"""quality.round_numbers: amounts padded to multiples of CNY 1,000 (FQ-007 round_number_share). New customers
top up k x round_unit (k = 1..9, first digits following Benford's law so FQ-005 stays quiet) and withdraw it
days later: a third of the period's ok customer legs end up round, against a few percent at clean peers."""

from __future__ import annotations

import numpy as np

from pipelines.quality.thresholds import threshold
from pipelines.synth.inject._round_trips import add_round_trips, ok_customer_legs
from pipelines.synth.inject.base import Context, Injector, register
from pipelines.synth.ledger import Ledger

ROUND_SHARE = 1 / 3  # of the ok customer legs once injected (each new customer adds two)
MIN_CUSTOMERS = 100


@register
class RoundNumbers(Injector):
    name = "quality.round_numbers"
    expected = ("FQ-007",)
    stacks = False  # FQ-007 is judged per enterprise-period: alone, so nothing else moves its shares
    min_peers = int(threshold("*", "min_peers"))

    def adjust_legs(self, ctx: Context, lg: Ledger) -> None:
        unit = int(threshold("FQ-007", "round_unit")) * 100  # cents
        legs = ok_customer_legs(lg)
        n = max(MIN_CUSTOMERS, int(np.ceil(legs * ROUND_SHARE / (2 * (1 - ROUND_SHARE)))))
        k = np.floor(10 ** ctx.rng.uniform(0, 1, n)).astype(np.int64)  # 1..9, Benford first digits
        add_round_trips(ctx, lg, k * unit)
