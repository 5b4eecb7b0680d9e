"""Time one full cycle (intake, validity, dbt, publish) on a generated preset, as `make demo` runs it.

Usage: .venv/bin/python -m bench.cycle --preset small --seed 1
Prints generation time, the cycle's step timings and the process's peak memory (ru_maxrss).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pipelines.cycle import run_cycle
from pipelines.home import Home
from pipelines.synth import generate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--months", type=int, default=None)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-cycle-"))
    home = Home.resolve(root).ensure()
    t0 = time.perf_counter()
    summary = generate(
        home.landing, home.truth / "truth.jsonl", preset=args.preset, seed=args.seed, months=args.months
    )
    gen_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    report = run_cycle(home, as_of=datetime(2026, 12, 1, tzinfo=UTC), backfill=True)
    cycle_s = time.perf_counter() - t1
    print(
        json.dumps(
            {
                "preset": args.preset,
                "seed": args.seed,
                "packages": summary.packages,
                "transactions": summary.rows_per_filing_type.get("transactions"),
                "generate_s": round(gen_s, 1),
                "cycle_s": round(cycle_s, 1),
                "steps_s": {k: round(v, 1) for k, v in report.timings.items()},
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            },
            indent=2,
        )
    )
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
