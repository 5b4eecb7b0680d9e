"""Detection over several seeds: generate a preset with the chosen classes, run one backfill cycle per seed,
score recall per class and precision per flagging id against the ground truth, and check clean submissions.

    .venv/bin/python -m bench.detection_seeds --seeds 11 12 13 --classes 'syntax.*' 'validity.*' 'timeliness.*'

Prints a Markdown table for docs/detection.md. Homes go under --work (one per seed, removed unless --keep).
"""

from __future__ import annotations

import argparse
import fnmatch
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.cycle import run_cycle
from pipelines.evaluate.detection import evaluate, read_truth
from pipelines.home import Home
from pipelines.synth import generate
from pipelines.synth.inject import REGISTRY

AS_OF = datetime(2026, 12, 1, tzinfo=UTC)  # after the close of the last period generated from 2026-07


def run_seed(work: Path, preset: str, seed: int, classes: list[str], keep: bool) -> dict:
    home = Home.resolve(work / f"{preset}-{seed}").ensure()
    if home.root.exists():
        shutil.rmtree(home.root)
    home.ensure()
    truth_file = home.truth / "truth.jsonl"
    t0 = time.perf_counter()
    generate(home.landing, truth_file, preset=preset, seed=seed, inject=classes, start_period="2026-07")
    report = run_cycle(home, as_of=AS_OF, backfill=True)
    elapsed = time.perf_counter() - t0
    con = duckdb.connect(str(report.snapshot), read_only=True)
    try:
        result = evaluate(con, read_truth(truth_file))
    finally:
        con.close()
    if not keep:
        shutil.rmtree(home.root)
    return {"result": result, "seconds": elapsed}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    ap.add_argument("--classes", nargs="+", default=["syntax.*", "validity.*", "timeliness.*"])
    ap.add_argument("--work", type=Path, default=Path("/tmp/detection_seeds"))
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    classes = sorted(c for c in REGISTRY if any(fnmatch.fnmatch(c, p) for p in args.classes))
    runs = {seed: run_seed(args.work, args.preset, seed, classes, args.keep) for seed in args.seeds}

    print(f"| class | {' | '.join(f'seed {s}: caught/cases' for s in args.seeds)} |")
    print(f"|---|{'---|' * len(args.seeds)}")
    for cls in classes:
        cells = []
        for seed in args.seeds:
            score = runs[seed]["result"].classes.get(cls)
            cells.append(f"{score.caught}/{score.cases}" if score else "0/0")
        print(f"| `{cls}` | {' | '.join(cells)} |")
    print()
    print(f"| flagging id | {' | '.join(f'seed {s}: precision (flags)' for s in args.seeds)} |")
    print(f"|---|{'---|' * len(args.seeds)}")
    ids = sorted({i for r in runs.values() for i in r["result"].ids})
    for flag_id in ids:
        cells = []
        for seed in args.seeds:
            score = runs[seed]["result"].ids.get(flag_id)
            cells.append(f"{score.precision:.2f} ({score.flags})" if score and score.flags else "–")
        print(f"| {flag_id} | {' | '.join(cells)} |")
    print()
    for seed in args.seeds:
        r = runs[seed]["result"]
        print(
            f"- seed {seed}: {r.clean_submissions} clean submissions, "
            f"{len(r.clean_with_errors)} with an error finding; cycle {runs[seed]['seconds']:.0f} s"
        )


if __name__ == "__main__":
    main()
