"""Where injected cases go: enough per class, alone when broken, stacked only where no detection masks another."""

from __future__ import annotations

from collections import Counter

import pytest

from pipelines.synth.inject import REGISTRY
from pipelines.synth.inject.planner import MAX_STACK, cases_per_class, plan_cases
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
    room = {  # slots a class could take at all (volume-bound classes may fit no tiny enterprise)
        name: sum(
            1
            for pl in plans
            for i in range(len(periods))
            if pl.ent_type in REGISTRY[name].ent_types
            and pl.peers >= REGISTRY[name].min_peers
            and not (REGISTRY[name].needs_history and i == 0)
            and REGISTRY[name].eligible(pl, i)
        )
        for name in classes
    }
    wanted = {name: min(k, room[name]) for name in classes}
    assert {n: per_class.get(n, 0) for n in classes} == wanted, "a class did not find room for its cases"
    if preset == "small":
        assert all(room[n] >= k for n in classes), "at small every class must fit its 10 cases"
    ids = [c.case_id for cases in planned.values() for c in cases]
    assert len(ids) == len(set(ids))
    for (e, i), cases in planned.items():
        names = [c.cls for c in cases]
        if len(names) > 1:
            assert all(REGISTRY[n].stackable for n in names), names
            assert len(names) <= MAX_STACK
            expected = [e for n in names for e in REGISTRY[n].expected]
            assert len(expected) == len(set(expected)), f"{names} would mask each other"
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
