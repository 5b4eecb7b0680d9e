"""The dbt build on DuckDB vs on local Spark, side by side on one home (issue 15, item 6).

    .venv-spark/bin/python -m bench.spark_vs_duckdb --home H [--repeat 1]

H is a home a cycle has run on (its warehouse and its open layout <home>/lake/raw; `make parity` leaves
one in var/parity, `make bench` or `suptech synth` + `suptech run --backfill` make larger ones). Both
engines build the same seeds and models (no data tests, no unit tests) at the warehouse's clock: DuckDB
on a copy of the warehouse file, Spark over lake/raw (pipelines/scaleout/spark.py). Prints a markdown
table: wall time of each, the ratio, and where Spark's time goes - the fixed cost (process, JVM and
session start, dbt parse, source registration: wall time minus the nodes' own time), the median node,
and the slowest nodes. Runs in .venv-spark, the environment with the `spark` extra that `make parity` makes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.dbt_runner import run_dbt
from pipelines.home import Home
from pipelines.scaleout.spark import build_on_spark

EXCLUDE = ["--exclude", "resource_type:test", "resource_type:unit_test"]


def warehouse_clock(home: Home) -> datetime:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        clock = con.execute("select max(computed_at) from marts.fct_indicator_values").fetchall()[0][0]
    finally:
        con.close()
    if clock is None:
        raise SystemExit(f"{home.warehouse} has no indicator values: run a cycle first")
    return clock


def duckdb_build(home: Home, as_of: datetime) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-dbt-", dir=home.root) as tmp:
        copy = Path(tmp) / "suptech.duckdb"
        shutil.copyfile(home.warehouse, copy)
        started = time.perf_counter()
        result = run_dbt(["build", *EXCLUDE], warehouse=copy, as_of=as_of, target_dir=Path(tmp) / "target")
        elapsed = time.perf_counter() - started
    if not result.success:
        raise SystemExit(f"dbt build on DuckDB failed: {result.failures[:3]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    home = Home.resolve(args.home.resolve())
    as_of = warehouse_clock(home)
    duck: list[float] = []
    spark: list[float] = []
    nodes: dict[str, float] = {}
    last = None
    for _ in range(args.repeat):
        duck.append(duckdb_build(home, as_of))
        build = build_on_spark(home, as_of)
        if not build.success:
            raise SystemExit(
                f"dbt build on Spark failed: {list(build.failures.items())[:3]} (log {build.log})"
            )
        spark.append(build.elapsed_s)
        nodes, last = build.timings_s, build
    d, s = statistics.median(duck), statistics.median(spark)
    fixed = last.startup_s if last is not None and last.startup_s is not None else float("nan")
    slowest = sorted(nodes.items(), key=lambda kv: -kv[1])[:5]
    print(f"| engine | dbt build (seeds + {len(nodes)} nodes), median of {args.repeat} |")
    print("|---|---|")
    print(f"| DuckDB (embedded) | {d:.0f} s |")
    print(f"| Spark (local, session) | {s:.0f} s |")
    print(f"| ratio Spark / DuckDB | {s / d:.1f} |")
    print()
    print(
        f"Spark: fixed cost {fixed:.0f} s (process and JVM start, dbt parse, source registration, until the "
        f"first node), median node "
        f"{statistics.median(nodes.values()):.1f} s; slowest: "
        + ", ".join(f"{uid.split('.')[-1]} {t:.0f} s" for uid, t in slowest)
    )
    print(json.dumps({"duckdb_s": duck, "spark_s": spark, "fixed_s": fixed, "home": str(home.root)}))


if __name__ == "__main__":
    main()
