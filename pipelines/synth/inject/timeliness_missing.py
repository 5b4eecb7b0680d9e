"""timeliness.missing: the enterprise never files the period (it filed before, so the warehouse knows it
owes it: never in the first period)."""

from __future__ import annotations

from datetime import datetime

from pipelines.synth.inject.base import Context, Injector, register


@register
class Missing(Injector):
    name = "timeliness.missing"
    expected = ("FQ-001",)
    needs_history = True
    files_nothing = True

    def delivery(self, ctx: Context, times: list[datetime]) -> list[datetime]:
        return []
