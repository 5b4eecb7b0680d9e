"""Where the cases go: each class into a few enterprise-periods, spread over enterprises and periods. A
broken, late or macro case has its submission to itself; supervisory and AML cases of different families
may share one (irregularities.md: one broken submission, one reason).

A `files_nothing` case (timeliness.missing) may follow any period: the engine has the period before it report
its month-end large-value transactions by its own end (engine.py), since a missing filing cannot carry them.
Leaving them to the missing filing would make AML-001 breach the period before — rightly by the catalog (the
next period's due date has passed with no LVTR), but in an enterprise-period with no case of its own."""

from __future__ import annotations

from collections import Counter, defaultdict

from pipelines.synth.inject.base import REGISTRY, Case
from pipelines.synth.periods import Period
from pipelines.synth.population import EnterprisePlan
from pipelines.synth.rng import stream


def cases_per_class(slots: int) -> int:
    """2 at tiny scale, 10 from small up (irregularities.md asks >= 10 per class at small)."""
    return max(2, min(10, slots // 40))


MAX_STACK = 3  # cases at most in one enterprise-period


def _fits(slot: list[str], name: str, crowded: bool = False) -> bool:
    """A class goes into an enterprise-period alone, or beside stackable classes of other families; when
    a scarce type has no such room left (`crowded`), beside stackable classes of its own family whose
    expected detections differ from its own, so that neither masks the other."""
    if not slot:
        return True
    inj = REGISTRY[name]
    others = [REGISTRY[other] for other in slot]
    if not inj.stackable or not all(o.stackable for o in others) or len(slot) >= MAX_STACK:
        return False
    if crowded:
        return all(not set(o.expected) & set(inj.expected) for o in others)
    return all(o.family != inj.family for o in others)


def plan_cases(
    seed: int, plans: list[EnterprisePlan], periods: list[Period], classes: list[str]
) -> dict[tuple[int, int], list[Case]]:
    """(enterprise index, period index) -> the cases injected there (irregularities.md: one broken
    submission, one reason; supervisory and AML cases may share an otherwise valid submission)."""
    unknown = [c for c in classes if c not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown irregularity classes {unknown}; known: {sorted(REGISTRY)}")
    rng = stream(seed, "inject-plan")
    k = cases_per_class(len(plans) * len(periods))
    taken: dict[tuple[int, int], list[str]] = defaultdict(list)
    used: Counter = Counter()  # cases per enterprise over all classes

    def eligible(name: str) -> list[tuple[int, int]]:
        inj = REGISTRY[name]
        return [
            (p.index, i)
            for p in plans
            for i in range(len(periods))
            if p.ent_type in inj.ent_types
            and p.peers >= inj.min_peers
            and not (inj.needs_history and i == 0)
            and inj.eligible(p, i)
        ]

    candidates = {name: eligible(name) for name in classes}
    by_index = {p.index: p for p in plans}
    absent: Counter = Counter()  # (ent_type, period index) -> enterprises filing nothing there
    needed: dict[tuple[str, int], int] = defaultdict(int)  # -> the most peers a case placed there needs

    def keeps_peers(name: str, c: tuple[int, int]) -> bool:
        """A peer-based case keeps min_peers filing peers in its period (a missing filing is one fewer)."""
        inj, plan = REGISTRY[name], by_index[c[0]]
        key = (plan.ent_type, c[1])
        if inj.files_nothing:
            return plan.peers - absent[key] - 1 >= needed[key]
        return plan.peers - absent[key] >= inj.min_peers

    # slots a scarce stackable class depends on (few candidates for its cases): exclusive classes, placed
    # first, leave them alone where they have room elsewhere
    scarce = {
        c
        for name in classes
        if REGISTRY[name].stackable and len(candidates[name]) <= 4 * k
        for c in candidates[name]
    }
    # exclusive classes first (they need empty slots), then the scarcest first
    for name in sorted(classes, key=lambda c: (REGISTRY[c].stackable, len(candidates[c]), c)):
        key = {c: float(rng.random()) for c in candidates[name]}
        per_ent: Counter = Counter()
        per_period: Counter = Counter()
        for _ in range(k):
            best = None
            for crowded in (False, True):
                best = min(
                    (c for c in candidates[name] if name not in taken[c] and _fits(taken[c], name, crowded)),
                    key=lambda c: (
                        not keeps_peers(name, c),  # short of peers only where no other slot is left
                        per_ent[c[0]],
                        not REGISTRY[name].stackable and c in scarce,
                        len(taken[c]),
                        used[c[0]],
                        per_period[c[1]],
                        key[c],
                    ),
                    default=None,
                )
                if best is not None:
                    break
            if best is None:
                break
            taken[best].append(name)
            key_tp = (by_index[best[0]].ent_type, best[1])
            absent[key_tp] += REGISTRY[name].files_nothing
            needed[key_tp] = max(needed[key_tp], REGISTRY[name].min_peers)
            per_ent[best[0]] += 1
            used[best[0]] += 1
            per_period[best[1]] += 1
    order = {name: i for i, name in enumerate(classes)}
    placed = sorted(
        ((name, slot) for slot, names in taken.items() for name in names),
        key=lambda x: (order[x[0]], by_index[x[1][0]].enterprise_id, x[1][1]),
    )
    out: dict[tuple[int, int], list[Case]] = defaultdict(list)
    for n, (name, (e, i)) in enumerate(placed, start=1):
        eid = by_index[e].enterprise_id
        out[(e, i)].append(
            Case(
                case_id=f"c{n:04d}",
                cls=name,
                enterprise_id=eid,
                period=periods[i].label,
                submission_id=f"{eid}-{periods[i].label}-v1",
                expected=list(REGISTRY[name].expected),
            )
        )
    return dict(out)
