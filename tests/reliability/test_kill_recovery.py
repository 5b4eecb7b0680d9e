"""R2: the cycle killed with SIGKILL anywhere (intake, validity, the Q/M stages, decisions, edit reports,
dbt, publish) and run again ends exactly where an uninterrupted cycle on the same packages and clock ends:
every curated table equal by content hash (warehouse, both published snapshots), every report file equal
byte for byte, nothing left in the landing area. And two uninterrupted runs in two homes are identical.

Kills come from pipelines/faults.py: at the nth pass of a named checkpoint, or after a random delay (mid-
load, mid-validation, mid-dbt). Most kills run the cycle without the dbt build (about a second each);
one kills a full cycle inside dbt. `make reliability` runs more kills on `tiny` synthetic markets
(SUPTECH_RELIABILITY=1, docs/reliability.md).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

from pipelines.home import Home
from tests.reliability.harness import State, run_forked, state, timeline, warm
from tests.support import drop_examples

KILLS_PER_SEED = 5
SEEDS = [1, 2, 3, 4]  # 4 chains x 5 kills without dbt, + 1 inside dbt = 21 kills
# The steps of a cycle, by the checkpoints they pass (pipelines/faults.py); a chain kills once in each, in
# this order, at a random pass of one of them or (intake, validity) after a random delay that lands in it.
PHASES = {
    "intake": ("intake.package",),
    "validity": ("validity.write", "validity.done"),
    "quality and macro stages": ("stage.Q", "rules.write", "stage.M"),
    "decisions": ("decide.batch", "decide", "decide.write", "reevaluate"),
    "edit reports and publish": ("edit_reports.start", "edit_report", "publish.start", "publish.done"),
}
TIMED = {"intake": ("cycle.start", "validity.start"), "validity": ("validity.start", "validity.done")}
# Every cycle passes these: kills that happen even when the killed cycles left no work (to top up a chain).
ALWAYS = ("cycle.start:1", "validity.start:1", "edit_reports.start:1", "publish.start:1", "publish.done:1")
# Each seed's chain kills here in its phase (a kill just after validity committed used to double findings).
FIXED = {1: "validity.done:1", 2: "decide:2", 3: "edit_report:1", 4: "publish.start:1"}


def _fresh(root: Path, fill: Callable[[Path], object] = drop_examples) -> Home:
    shutil.rmtree(root, ignore_errors=True)
    home = Home.resolve(root).ensure()
    fill(home.landing)
    return home


def _shared(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], dict]) -> dict:
    """A baseline built once per test session, shared by the xdist workers (a file lock and a JSON)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    out = root / f"{name}.json"
    with FileLock(str(out) + ".lock"):
        if not out.exists():
            out.write_text(json.dumps(make(root / name)), encoding="utf-8")
    return json.loads(out.read_text(encoding="utf-8"))


def _uninterrupted(root: Path, build_marts: bool, fill: Callable[[Path], object] = drop_examples) -> dict:
    home = _fresh(root, fill)
    log = root.parent / f"{root.name}.checkpoints"
    log.unlink(missing_ok=True)
    warm()
    started = time.perf_counter()
    assert run_forked(home, build_marts=build_marts, fault_log=log) == 0
    return {
        "state": state(home).__dict__,
        "timeline": timeline(log),
        "seconds": time.perf_counter() - started,
    }


def _state(d: dict) -> State:
    return State(**d)


def _counts(passes: list) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, _ in passes:
        counts[name] = counts.get(name, 0) + 1
    return counts


def chain_plan(rng: random.Random, passes: list, first: str | None = None) -> list[tuple]:
    """One kill per phase, in order, as (fault_at, fault_after). `passes` is an uninterrupted run's
    timeline; `first` replaces the draw of the phase it belongs to."""
    counts = _counts(passes)
    when = {name: t for name, t in reversed(passes)}  # each checkpoint's first pass
    out: list[tuple] = []
    for phase, names in PHASES.items():
        if first and first.split(":")[0] in names:
            out.append((first, None))
        elif phase in TIMED and rng.random() < 0.5:
            start, end = (when.get(n, 0.0) for n in TIMED[phase])
            out.append((None, f"cycle.start:{rng.uniform(start, max(end, start + 0.01)):.3f}"))
        else:
            name = rng.choice([n for n in names if counts.get(n)])
            out.append((f"{name}:{rng.randint(1, counts[name])}", None))
    return out


def kill_chain(home: Home, seed: int, passes: list, kills: int, first: str | None = None) -> list[str]:
    """Cycles killed one after the other (each restart resumes what the killed ones left), one kill drawn
    per phase, topped up with kills at points every cycle passes until `kills` kills happened (a fault the
    restarted cycle does not reach lets it complete); then one cycle without a fault. Returns the faults
    tried as "<fault> <seconds>s (<exit code>)", -9 for a kill."""
    rng = random.Random(seed)
    done: list[str] = []
    tries = chain_plan(rng, passes, first)
    while sum(k.endswith("(-9)") for k in done) < kills:
        assert len(done) < 4 * kills, f"the faults did not kill the cycle: {done}"
        at, after = tries.pop(0) if tries else (rng.choice(ALWAYS), None)
        started = time.perf_counter()
        code = run_forked(home, build_marts=False, fault_at=at, fault_after=after)
        assert code in (0, -9), f"a cycle failed ({code}) rather than die at {at or after}; before: {done}"
        done.append(f"{at or after} {time.perf_counter() - started:.1f}s ({code})")
    assert run_forked(home, build_marts=False) == 0, f"the recovering cycle failed after {done}"
    return done


@pytest.fixture(scope="module")
def light_baseline(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _shared(tmp_path_factory, "kill-baseline-light", lambda root: _uninterrupted(root, False))


@pytest.fixture(scope="module")
def full_baseline(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _shared(tmp_path_factory, "kill-baseline-full", lambda root: _uninterrupted(root, True))


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_killed_cycles_recover_to_the_uninterrupted_state(
    seed: int, light_baseline: dict, tmp_path: Path
) -> None:
    """Kills in intake, validity, the Q/M stages, decisions, edit reports and publish (no dbt build), one
    after the other on the same home, then one undisturbed cycle: the uninterrupted run's state."""
    baseline = _state(light_baseline["state"])
    assert baseline.reports and baseline.warehouse and not baseline.landing
    home = _fresh(tmp_path / "home")
    kills = kill_chain(home, seed, light_baseline["timeline"], KILLS_PER_SEED, FIXED[seed])
    diff = state(home).diff(baseline)
    assert not diff, f"after {kills}: {diff}"


@pytest.mark.slow
def test_cycle_killed_inside_dbt_recovers_marts_and_every_report(full_baseline: dict, tmp_path: Path) -> None:
    """A kill in the middle of the dbt build (a random delay after it started): the next cycle has nothing
    to take in but rebuilds the marts, publishes, and writes every edit and period report."""
    baseline = _state(full_baseline["state"])
    assert any(k.startswith("marts.") for k in baseline.warehouse)
    assert any(r.startswith("supervision/") for r in baseline.reports)
    passes = dict(full_baseline["timeline"])
    dbt_seconds = passes["dbt.done"] - passes["dbt.start"]
    delay = random.Random(7).uniform(0.2, 0.8) * dbt_seconds
    home = _fresh(tmp_path / "dbt")
    assert run_forked(home, build_marts=True, fault_after=f"dbt.start:{delay:.1f}") == -9
    assert run_forked(home, build_marts=True) == 0
    diff = state(home).diff(baseline)
    assert not diff, f"killed {delay:.1f} s into dbt: {diff}"


@pytest.mark.slow
def test_two_uninterrupted_runs_are_identical(full_baseline: dict, tmp_path: Path) -> None:
    """Same packages, same clock, another home: every curated table (marts included) has the same content
    hash, every report file the same bytes (no wall clock, no float sums in a varying order)."""
    other = _uninterrupted(tmp_path / "other", True)
    diff = _state(other["state"]).diff(_state(full_baseline["state"]))
    assert not diff, diff


# ---- make reliability: more kills on a tiny synthetic market ---------------------------------------------


def _synth(seed: int) -> Callable[[Path], object]:
    def fill(landing: Path) -> None:
        from pipelines.synth import generate

        generate(
            landing,
            landing.parent / "truth" / "truth.jsonl",
            preset="tiny",
            seed=seed,
            start_period="2026-07",
        )

    return fill


@pytest.mark.skipif(
    not os.environ.get("SUPTECH_RELIABILITY"), reason="make reliability (SUPTECH_RELIABILITY=1)"
)
def test_reliability_tiny_market(tmp_path: Path) -> None:
    """For each of SUPTECH_RELIABILITY_SEEDS (default 1,2) `tiny` synthetic markets: SUPTECH_RELIABILITY_CHAINS
    (default 3) chains of SUPTECH_RELIABILITY_KILLS (default 5) kills without dbt, and
    SUPTECH_RELIABILITY_DBT_KILLS (default 2) single kills in full cycles (inside dbt or after it: docs,
    publish, period reports), each compared with an uninterrupted run. One JSON line per chain or kill in
    SUPTECH_RELIABILITY_LOG."""
    env = os.environ.get
    seeds = [int(s) for s in env("SUPTECH_RELIABILITY_SEEDS", "1,2").split(",")]
    chains, per_chain = (
        int(env("SUPTECH_RELIABILITY_CHAINS", "3")),
        int(env("SUPTECH_RELIABILITY_KILLS", "5")),
    )
    n_full = int(env("SUPTECH_RELIABILITY_DBT_KILLS", "2"))
    log = Path(env("SUPTECH_RELIABILITY_LOG", str(tmp_path / "reliability.jsonl")))
    failures = []

    def record(home: Home, baseline: State, base: dict, started: float, **fields) -> None:
        after = state(home)
        fields.update(
            tables=len(baseline.warehouse) + len(baseline.published) + len(baseline.auditor),
            reports=len(baseline.reports),
            baseline_seconds=round(base["seconds"], 1),
            landing_files_after=len(after.landing),
            differences=after.diff(baseline),
            seconds=round(time.perf_counter() - started, 1),
        )
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(fields) + "\n")
        if fields["differences"] or fields["landing_files_after"]:
            failures.append(fields)
        shutil.rmtree(home.root, ignore_errors=True)

    for seed in seeds:
        fill = _synth(seed)
        base = _uninterrupted(tmp_path / f"s{seed}-light", False, fill)
        baseline = _state(base["state"])
        for c in range(chains):
            home = _fresh(tmp_path / f"s{seed}-c{c}", fill)
            started = time.perf_counter()
            kills = kill_chain(home, seed * 100 + c, base["timeline"], per_chain)
            record(home, baseline, base, started, seed=seed, marts=False, kills=kills)
        if not n_full:
            continue
        base = _uninterrupted(tmp_path / f"s{seed}-full", True, fill)
        baseline = _state(base["state"])
        rng = random.Random(seed)
        counts = _counts(base["timeline"])
        passes = dict(base["timeline"])
        dbt_seconds = passes["dbt.done"] - passes["dbt.start"]
        after_dbt = sorted(p for p in counts if p.startswith(("dbt.done", "publish.", "period_report")))
        for i in range(n_full):
            if i % 2 == 0:
                at, after_spec = None, f"dbt.start:{rng.uniform(0.05, 0.95) * dbt_seconds:.1f}"
            else:
                name = rng.choice(after_dbt)
                at, after_spec = f"{name}:{rng.randint(1, counts[name])}", None
            home = _fresh(tmp_path / f"s{seed}-f{i}", fill)
            started = time.perf_counter()
            code = run_forked(home, build_marts=True, fault_at=at, fault_after=after_spec)
            assert code in (0, -9)
            assert run_forked(home, build_marts=True) == 0
            record(
                home, baseline, base, started, seed=seed, marts=True, kills=[f"{at or after_spec} ({code})"]
            )
    assert not failures, failures
