"""timeliness.late: the only version arrives 1-10 days after the due time."""

from __future__ import annotations

from datetime import datetime

from pipelines.synth import delivery
from pipelines.synth.inject.base import Context, Injector, register


@register
class Late(Injector):
    name = "timeliness.late"
    expected = ("FQ-001",)

    def delivery(self, ctx: Context, times: list[datetime]) -> list[datetime]:
        return [delivery.late(ctx.rng, ctx.period, ctx.plan.ent_type)]
