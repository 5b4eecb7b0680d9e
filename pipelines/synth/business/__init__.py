"""The business simulations, one module per enterprise type: `init(state, rng, warmup)` sets up the books
before a warm-up month, `simulate(state, period, ledger, rng)` books a month of legs."""

from __future__ import annotations

from types import ModuleType

from pipelines.synth.population import EnterprisePlan


def module(ent_type: str) -> ModuleType:
    import importlib

    return importlib.import_module(f"pipelines.synth.business.{ent_type.lower()}")


def expected_active(plan: EnterprisePlan) -> float:
    """Roughly how many customers are active in a month (for choosing where volume-based cases fit)."""
    return plan.legs_per_month * module(plan.ent_type).ACTIVE_PER_LEG
