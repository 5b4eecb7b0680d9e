"""supervisory.complaint_spike: five times the usual complaints (at least 12) with an unchanged customer
base, only where the enterprise has enough peers for the peer screen and a usual volume of at least 3."""

from __future__ import annotations

from pipelines.synth.business import expected_active
from pipelines.synth.complaints import expected_count
from pipelines.synth.inject.base import Context, Injector, register
from pipelines.synth.population import EnterprisePlan


@register
class ComplaintSpike(Injector):
    name = "supervisory.complaint_spike"
    expected = ("CPL-001",)
    min_peers = 5

    def eligible(self, plan: EnterprisePlan, period_index: int) -> bool:
        return expected_count(plan.complaint_rate, expected_active(plan)) >= 3

    def prepare(self, ctx: Context) -> None:
        ctx.complaint_multiplier = 5.0
        ctx.complaint_minimum = 12
