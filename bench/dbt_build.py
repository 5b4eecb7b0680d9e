"""Time `dbt build` (seeds, models, data tests; unit tests excluded) on a preset's intake.

Usage:
  .venv/bin/python -m bench.dbt_build --preset small --seed 1 --runs 3
  .venv/bin/python -m bench.dbt_build --warehouse /path/suptech.duckdb --runs 1   (an existing intake)

Generates the preset (unless --warehouse is given), takes it in without marts (`run_cycle(...,
build_marts=False)`), then builds the dbt project `--runs` times, each on a fresh copy of the intake-only
warehouse, and prints the median and every run's seconds, the node count, failures and the rows of the
largest inputs as JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.dbt_runner import run_dbt

AS_OF = datetime(2026, 12, 1, tzinfo=UTC)


def intake_only(preset: str, seed: int, root: Path) -> tuple[Path, dict]:
    """Generate the preset and take it in without building the marts; the warehouse path and sizes."""
    from pipelines.cycle import run_cycle
    from pipelines.home import Home
    from pipelines.synth import generate

    home = Home.resolve(root).ensure()
    t0 = time.perf_counter()
    summary = generate(home.landing, home.truth / "truth.jsonl", preset=preset, seed=seed)
    t1 = time.perf_counter()
    run_cycle(home, as_of=AS_OF, backfill=True, build_marts=False)
    return home.warehouse, {
        "packages": summary.packages,
        "generate_s": round(t1 - t0, 1),
        "intake_s": round(time.perf_counter() - t1, 1),
    }


def input_rows(warehouse: Path) -> dict[str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            t: con.execute(f"select count(*) from raw.{t}").fetchone()[0]
            for t in ("transactions", "account_balances")
        }
    finally:
        con.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warehouse", type=Path, default=None, help="an intake-only warehouse to copy")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-dbt-"))
    try:
        info: dict = {"preset": args.preset, "seed": args.seed}
        source = args.warehouse
        if source is None:
            source, sizes = intake_only(args.preset, args.seed, root / "home")
            info.update(sizes)
        info["input_rows"] = input_rows(source)
        runs, nodes, failures = [], 0, []
        for n in range(args.runs):
            copy = root / f"run{n}.duckdb"
            shutil.copy(source, copy)
            result = run_dbt(
                ["build", "--exclude-resource-type", "unit_test"],
                warehouse=copy,
                as_of=AS_OF,
                target_dir=root / f"target{n}",
            )
            runs.append(round(result.elapsed_s, 1))
            nodes = len(result.node_statuses)
            failures = [f.name for f in result.failures]
            copy.unlink()
        info.update(
            {
                "dbt_build_median_s": statistics.median(runs),
                "runs_s": runs,
                "nodes": nodes,
                "failed_nodes": failures,
            }
        )
        print(json.dumps(info, indent=2))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
