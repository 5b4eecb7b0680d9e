"""Irregularity injectors, one module per class of irregularities.md; importing this package registers them."""

from pipelines.synth.inject import (  # noqa: F401  (registration)
    supervisory_complaint_spike,
    supervisory_reserve_shortfall,
    syntax_checksum_mismatch,
    timeliness_late,
    validity_balance_arithmetic,
)
from pipelines.synth.inject.base import REGISTRY, Case, Context, Injector, register
from pipelines.synth.inject.planner import plan_cases

DEFAULT_CLASSES: tuple[str, ...] = tuple(REGISTRY)

__all__ = ["REGISTRY", "DEFAULT_CLASSES", "Case", "Context", "Injector", "register", "plan_cases"]
