"""P5: the standard analyst questions (docs/analyst_questions.yml) on a published snapshot, median per query.

    .venv/bin/python -m bench.analyst_queries --home var/demo --period 2026-10 --repeat 5

Each repetition opens the snapshot read-only the way `suptech query` does (connect_reader), so the time
includes opening the file. Target (targets.md P5): each < 1 s median at `national` scale.
"""

from __future__ import annotations

import argparse
import statistics
import time

from pipelines.home import Home
from pipelines.reports.analyst_questions import load_questions, run_question
from pipelines.warehouse.db import connect_reader, snapshot_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True)
    parser.add_argument("--period", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    home = Home.resolve(args.home)
    print(
        f"snapshot {snapshot_path(home)}: {snapshot_path(home).stat().st_size / 1e6:.1f} MB, period {args.period}"
    )
    worst = 0.0
    for q in load_questions():
        times, rows = [], 0
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            con = connect_reader(home)
            try:
                rows = run_question(con, q, args.period).height
            finally:
                con.close()
            times.append(time.perf_counter() - t0)
        median = statistics.median(times)
        worst = max(worst, median)
        print(f"{q.id:<28} median {median * 1000:8.1f} ms  rows {rows}")
    print(f"slowest median {worst * 1000:.1f} ms ({'meets' if worst < 1 else 'misses'} P5's < 1 s)")


if __name__ == "__main__":
    main()
