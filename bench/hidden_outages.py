"""OPS-003 hidden-outage search (fct_hidden_outages) timed on a built warehouse, median of N runs.

    .venv/bin/python -m bench.hidden_outages --home <home after a cycle> --repeat 3

Runs the model's compiled SQL (from the home's dbt target, written by the cycle) read-only against the
warehouse file and prints the ok customer legs it scans, the gaps it finds and the median time.
"""

from __future__ import annotations

import argparse
import statistics
import time

import duckdb

from pipelines.home import Home


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    home = Home.resolve(args.home)
    sql_path = next(home.dbt_target.glob("compiled/**/fct_hidden_outages.sql"))
    sql = sql_path.read_text(encoding="utf-8")
    con = duckdb.connect(str(home.warehouse), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")
    legs = con.execute("select count(*) from intermediate.int_customer_legs_classified").fetchone()[0]
    times, rows = [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        rows = con.execute(f"select status, sum(numerator) from ({sql}) group by 1").fetchall()
        times.append(time.perf_counter() - t)
    print(f"ok customer legs {legs:,}; hidden outages by status {sorted(rows)}")
    print(f"median {statistics.median(times):.2f} s over {args.repeat} runs: {[round(x, 2) for x in times]}")


if __name__ == "__main__":
    main()
