"""P6 (targets.md): Great Expectations validation of a 10M-row transactions filing run inside DuckDB (how the
validity stage runs it: a GX query asset on the warehouse) vs the same suite on a pandas DataFrame (the
common way: read the rows into pandas, validate there). Time and peak memory, each route in its own process.

    .venv/bin/python -m bench.validation_duckdb_vs_pandas --rows 10000000 --repeat 3

The rows are the spec example PAY0001's transactions replicated with unique txn_ids (valid rows, so every
expectation runs over the whole batch). "The same suite" = the generated `validity.transactions` suite's
column-map expectations (UnexpectedRowsExpectation is SQL-only and has no pandas form); the DuckDB route
also reports the full suite.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

EXAMPLE = (
    Path(__file__).resolve().parents[2] / "shared" / "spec" / "examples" / "PAY0001" / "PAY0001-2026-10-v1"
)
SID = "PAY0001-2026-10-v1"


def build(db: Path, rows: int) -> None:
    import duckdb

    from pipelines.contracts import load_contracts
    from pipelines.warehouse.schema import create_schema

    c = load_contracts()["transactions"]
    con = duckdb.connect(str(db))
    create_schema(con)
    cols = ", ".join(f"try_cast(nullif({x.name}, '') as {x.duckdb_type}) as {x.name}" for x in c.columns)
    spec = "{" + ", ".join(f"'{x.name}': 'VARCHAR'" for x in c.columns) + "}"
    con.execute(
        f"create temp table ex as select {cols} from read_csv('{EXAMPLE / 'transactions.csv'}', header = true, "
        f"auto_detect = false, columns = {spec})"
    )
    n_ex = con.execute("select count(*) from ex").fetchone()[0]
    reps = -(-rows // n_ex)
    names = [x.name for x in c.columns]
    select = ", ".join("ex.txn_id || '-' || r.i as txn_id" if n == "txn_id" else f"ex.{n}" for n in names)
    con.execute(
        f"insert into raw.transactions (submission_id, _row, {', '.join(names)}) "
        f"select '{SID}', row_number() over (), {select} from range({reps}) r(i), ex limit {rows}"
    )
    con.close()


def _suite(column_map_only: bool):
    import great_expectations.expectations as gxe

    from pipelines.quality.suites import build_suites

    suite = build_suites()["transactions"]
    if not column_map_only:
        return suite
    import great_expectations as gx

    kept = [e for e in suite.expectations if not isinstance(e, gxe.UnexpectedRowsExpectation)]
    out = gx.ExpectationSuite(name="transactions_column_map")
    for e in kept:
        out.add_expectation(e.copy(update={"id": None}))
    return out


def child(route: str, db: Path) -> dict:
    import duckdb

    from pipelines.quality import gx_duckdb

    t0 = time.perf_counter()
    context = gx_duckdb.ephemeral_context()
    con = duckdb.connect(str(db), read_only=route == "pandas")
    out: dict = {"route": route}
    if route.startswith("duckdb"):
        suite = _suite(column_map_only=route == "duckdb")
        with gx_duckdb.duckdb_datasource(context, con, db) as ds:
            asset = ds.add_query_asset(
                name="t", query=f"select * from raw.transactions where submission_id = '{SID}'"
            )
            batch = asset.add_batch_definition_whole_table(name="b").get_batch()
            result = batch.validate(
                suite, result_format={"result_format": "BASIC", "partial_unexpected_count": 0}
            )
    else:
        df = con.sql(f"select * from raw.transactions where submission_id = '{SID}'").df()
        out["load_s"] = time.perf_counter() - t0
        ds = context.data_sources.add_pandas("pd")
        asset = ds.add_dataframe_asset(name="t")
        batch = asset.add_batch_definition_whole_dataframe("b").get_batch(batch_parameters={"dataframe": df})
        result = batch.validate(
            _suite(column_map_only=True),
            result_format={"result_format": "BASIC", "partial_unexpected_count": 0},
        )
    out["seconds"] = time.perf_counter() - t0
    out["expectations"] = len(result.results)
    out["failed"] = sum(not r.success for r in result.results)
    out["errors"] = sum(
        bool(r.exception_info and r.exception_info.get("raised_exception")) for r in result.results
    )
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    con.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bench_p6"))
    ap.add_argument("--child", choices=["duckdb", "duckdb_full", "pandas"])
    args = ap.parse_args()
    db = args.workdir / f"transactions_{args.rows}.duckdb"
    if args.child:
        print(json.dumps(child(args.child, db)))
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    if not db.exists():
        t = time.perf_counter()
        build(db, args.rows)
        print(f"built {args.rows:,} rows in {time.perf_counter() - t:.1f} s: {db}", file=sys.stderr)
    runs: dict[str, list[dict]] = {"duckdb": [], "pandas": [], "duckdb_full": []}
    for _ in range(args.repeat):
        for route in runs:
            p = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.validation_duckdb_vs_pandas",
                    "--rows",
                    str(args.rows),
                    "--workdir",
                    str(args.workdir),
                    "--child",
                    route,
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            runs[route].append(json.loads(p.stdout.strip().splitlines()[-1]))
            print(route, runs[route][-1], file=sys.stderr)
    summary = {
        route: {
            "median_s": statistics.median(r["seconds"] for r in rs),
            "median_peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in rs),
            "expectations": rs[0]["expectations"],
            "failed": rs[0]["failed"],
            "errors": rs[0]["errors"],
            **({"median_load_s": statistics.median(r["load_s"] for r in rs)} if route == "pandas" else {}),
        }
        for route, rs in runs.items()
    }
    summary["rows"] = args.rows
    summary["speedup_pandas_over_duckdb"] = summary["pandas"]["median_s"] / summary["duckdb"]["median_s"]
    summary["memory_ratio_pandas_over_duckdb"] = (
        summary["pandas"]["median_peak_rss_mb"] / summary["duckdb"]["median_peak_rss_mb"]
    )
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
