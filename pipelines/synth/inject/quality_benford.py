"""quality.benford: one enterprise's amounts fabricated from a uniform distribution (FQ-005, rule Q001). New
customers top up uniformly drawn amounts of CNY 10.00-99.99 (first digits uniform, none a round 1,000) and
withdraw them days later, as many legs as the enterprise's own and at least Q001's min_amounts, so half
the tested amounts ignore Benford's law: a mean absolute deviation near 0.03 against the 0.015 limit."""

from __future__ import annotations

from pipelines.quality.thresholds import threshold
from pipelines.synth.inject._round_trips import add_round_trips, ok_customer_legs
from pipelines.synth.inject.base import Context, Injector, register
from pipelines.synth.ledger import Ledger


@register
class Benford(Injector):
    name = "quality.benford"
    expected = ("FQ-005",)
    stacks = False

    def adjust_legs(self, ctx: Context, lg: Ledger) -> None:
        n_min = int(threshold("FQ-005", "min_amounts"))
        n = (max(ok_customer_legs(lg), n_min) + 1) // 2  # two legs per new customer
        amounts = ctx.rng.integers(1_000, 10_000, n)  # cents
        add_round_trips(ctx, lg, amounts)
