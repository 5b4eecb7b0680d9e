"""The generator's entry point: plan the market and the cases, run every enterprise, write the truth."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.synth import engine
from pipelines.synth.inject import DEFAULT_CLASSES
from pipelines.synth.inject.planner import plan_cases
from pipelines.synth.periods import periods as make_periods
from pipelines.synth.population import plan_market
from pipelines.synth.presets import PRESETS
from pipelines.synth.truth import write as write_truth

GZIP_FROM_LEGS = 1_000_000  # from this market volume on, every transactions file is gzipped


@dataclass
class SynthSummary:
    preset: str
    seed: int
    periods: list[str]
    enterprises: int
    packages: int
    submissions_per_enterprise: dict[str, int]
    cases_per_class: dict[str, int]
    rows_per_filing_type: dict[str, int]
    elapsed_seconds: float
    truth_file: str = ""
    classes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _classes(inject: str | Sequence[str]) -> list[str]:
    if isinstance(inject, str):
        if inject == "none":
            return []
        if inject == "default":
            return list(DEFAULT_CLASSES)
        return [inject]
    return list(inject)


def _workers(n_jobs: int) -> int:
    env = os.environ.get("SUPTECH_SYNTH_WORKERS")
    if env:
        return max(1, int(env))
    return max(1, min(os.cpu_count() or 1, 4, n_jobs))


def generate(
    landing: Path,
    truth_file: Path,
    *,
    preset: str = "tiny",
    seed: int = 0,
    inject: str | Sequence[str] = "default",
    start_period: str = "2026-07",
    months: int | None = None,
    enterprises: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> SynthSummary:
    """Write a synthetic market's packages under `landing` and the ground truth to `truth_file`.

    Same arguments, same bytes (and manifest modification times)."""
    t0 = time.perf_counter()
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known: {sorted(PRESETS)}")
    p = PRESETS[preset]
    n_ent = enterprises if enterprises is not None else p.enterprises
    n_months = months if months is not None else p.months
    if n_ent < 1 or n_months < 1:
        raise ValueError("enterprises and months must be at least 1")
    legs = p.legs_per_month * n_ent / p.enterprises
    landing, truth_file = Path(landing), Path(truth_file)
    plans = plan_market(seed, n_ent, int(legs))
    periods = make_periods(start_period, n_months)
    classes = _classes(inject)
    cases = plan_cases(seed, plans, periods, classes)
    for plan in plans:
        if (landing / plan.enterprise_id).exists() and any(
            (landing / plan.enterprise_id / f"{plan.enterprise_id}-{per.label}-v1").exists()
            for per in periods
        ):
            raise FileExistsError(
                f"{landing / plan.enterprise_id} already holds packages of this run's periods"
            )
    jobs = [
        engine.Job(
            plan=plan,
            seed=seed,
            periods=periods,
            landing=landing,
            cases={i: cs for (e, i), cs in cases.items() if e == plan.index},
            gzip_transactions=legs >= GZIP_FROM_LEGS or plan.index % 2 == 0,
        )
        for plan in plans
    ]
    # biggest first, so the pool stays busy
    jobs.sort(key=lambda j: -j.plan.legs_per_month)
    results: list[engine.Result] = []
    workers = _workers(len(jobs))
    if workers == 1:
        for k, job in enumerate(jobs, start=1):
            results.append(engine.run(job))
            if progress:
                progress("enterprises", k, len(jobs))
    else:
        # spawn, not fork: a forked child of a process that already ran polars can deadlock on its thread pool
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            for k, res in enumerate(pool.map(engine.run, jobs), start=1):
                results.append(res)
                if progress:
                    progress("enterprises", k, len(jobs))
    results.sort(key=lambda r: r.enterprise_id)

    done_cases = sorted((c for r in results for c in r.cases), key=lambda c: c.case_id)
    rows: Counter = Counter()
    for r in results:
        rows.update(r.rows)
    summary = SynthSummary(
        preset=preset,
        seed=seed,
        periods=[x.label for x in periods],
        enterprises=n_ent,
        packages=sum(len(r.packages) for r in results),
        submissions_per_enterprise={r.enterprise_id: len(r.packages) for r in results},
        cases_per_class=dict(Counter(c.cls for c in done_cases)),
        rows_per_filing_type=dict(sorted(rows.items())),
        elapsed_seconds=0.0,
        truth_file=str(truth_file),
        classes=classes,
    )
    summary.elapsed_seconds = round(time.perf_counter() - t0, 3)
    record = summary.as_dict()
    for volatile in ("elapsed_seconds", "truth_file"):  # the written summary is the same on every rerun
        record.pop(volatile)
    write_truth(truth_file, done_cases, record)
    return summary
