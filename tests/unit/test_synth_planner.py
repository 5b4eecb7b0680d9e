"""Where injected cases go: enough per class, alone when broken, stacked only across stackable families."""

from __future__ import annotations

from collections import Counter

import pytest

from pipelines.synth.inject import REGISTRY, plan_cases
from pipelines.synth.inject.planner import cases_per_class
from pipelines.synth.periods import periods as make_periods
from pipelines.synth.population import plan_market
from pipelines.synth.presets import PRESETS


@pytest.mark.parametrize("preset", ["tiny", "small"])
def test_every_class_gets_its_cases_and_broken_submissions_stay_alone(preset: str) -> None:
    p = PRESETS[preset]
    plans = plan_market(5, p.enterprises, p.legs_per_month)
    periods = make_periods("2026-07", p.months)
    classes = list(REGISTRY)
    planned = plan_cases(5, plans, periods, classes)
    k = cases_per_class(len(plans) * len(periods))
    assert k == (2 if preset == "tiny" else 10)

    per_class = Counter(c.cls for cases in planned.values() for c in cases)
    assert per_class == {name: k for name in classes}, "a class did not find room for its cases"
    ids = [c.case_id for cases in planned.values() for c in cases]
    assert len(ids) == len(set(ids))
    for (e, i), cases in planned.items():
        names = [c.cls for c in cases]
        if len(names) > 1:
            assert all(REGISTRY[n].stackable for n in names), names
            assert len({REGISTRY[n].family for n in names}) == len(names), names
        plan = next(pl for pl in plans if pl.index == e)
        for c in cases:
            assert plan.ent_type in REGISTRY[c.cls].ent_types
            assert c.submission_id == f"{plan.enterprise_id}-{periods[i].label}-v1"


def test_plan_is_deterministic_by_seed() -> None:
    p = PRESETS["tiny"]
    plans = plan_market(3, p.enterprises, p.legs_per_month)
    periods = make_periods("2026-07", p.months)
    a = plan_cases(3, plans, periods, list(REGISTRY))
    b = plan_cases(3, plans, periods, list(REGISTRY))
    assert {k: [c.truth() for c in v] for k, v in a.items()} == {
        k: [c.truth() for c in v] for k, v in b.items()
    }
