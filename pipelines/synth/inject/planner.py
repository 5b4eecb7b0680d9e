"""Where the cases go: each class into a few enterprise-periods, spread over enterprises and periods, at
most one class per submission."""

from __future__ import annotations

from collections import Counter

from pipelines.synth.inject.base import REGISTRY, Case
from pipelines.synth.periods import Period
from pipelines.synth.population import EnterprisePlan
from pipelines.synth.rng import stream


def cases_per_class(slots: int) -> int:
    """3 at tiny scale, 10 from small up (irregularities.md asks >= 10 per class at small)."""
    return max(3, min(10, slots // 40))


def plan_cases(
    seed: int, plans: list[EnterprisePlan], periods: list[Period], classes: list[str]
) -> dict[tuple[int, int], Case]:
    """(enterprise index, period index) -> the case injected there."""
    unknown = [c for c in classes if c not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown irregularity classes {unknown}; known: {sorted(REGISTRY)}")
    rng = stream(seed, "inject-plan")
    k = cases_per_class(len(plans) * len(periods))
    taken: dict[tuple[int, int], str] = {}
    used: Counter = Counter()  # cases per enterprise over all classes
    for name in classes:
        inj = REGISTRY[name]
        cands = [
            (p.index, i)
            for p in plans
            for i in range(len(periods))
            if p.ent_type in inj.ent_types
            and p.peers >= inj.min_peers
            and not (inj.needs_history and i == 0)
            and (p.index, i) not in taken
            and inj.eligible(p, i)
        ]
        key = {c: float(rng.random()) for c in cands}
        per_ent: Counter = Counter()
        per_period: Counter = Counter()
        for _ in range(min(k, len(cands))):
            best = min(
                (c for c in cands if c not in taken),
                key=lambda c: (per_ent[c[0]], used[c[0]], per_period[c[1]], key[c]),
                default=None,
            )
            if best is None:
                break
            taken[best] = name
            per_ent[best[0]] += 1
            used[best[0]] += 1
            per_period[best[1]] += 1
    order = {name: i for i, name in enumerate(classes)}
    by_index = {p.index: p for p in plans}
    slots = sorted(taken, key=lambda s: (order[taken[s]], by_index[s[0]].enterprise_id, s[1]))
    out = {}
    for n, (e, i) in enumerate(slots, start=1):
        name = taken[(e, i)]
        eid = by_index[e].enterprise_id
        out[(e, i)] = Case(
            case_id=f"c{n:04d}",
            cls=name,
            enterprise_id=eid,
            period=periods[i].label,
            submission_id=f"{eid}-{periods[i].label}-v1",
            expected=list(REGISTRY[name].expected),
        )
    return out
