"""P1: intake throughput vs DuckDB's own read_csv with an explicit schema, on the same files, same run.

Usage: .venv/bin/python -m bench.intake_throughput --preset small --seed 1 [--repeat 3]

For each repetition: generate the packages once into a scratch home (untimed), copy them, then time
(a) the intake (S rules, typed load, V rules) on one copy and (b) `create table … as select * from
read_csv(file, columns = {explicit types})` of every data file of the other copy into a fresh DuckDB
file. Prints the median times and the ratio raw / intake (target >= 0.5).
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

from pipelines.contracts import load_contracts
from pipelines.cycle import validate_and_decide
from pipelines.home import Home
from pipelines.intake.service import take_in
from pipelines.synth import generate
from pipelines.warehouse.db import connect_writer, writer_lock


def raw_load(landing: Path, db: Path) -> tuple[float, int]:
    contracts = load_contracts()
    con = duckdb.connect(str(db))
    rows = 0
    start = time.perf_counter()
    for i, manifest_path in enumerate(sorted(landing.glob("*/*/manifest.json"))):
        manifest = json.loads(manifest_path.read_text())
        for f in manifest["files"]:
            contract = contracts[f["filing_type"]]
            cols = "{" + ", ".join(f"'{c.name}': '{c.duckdb_type}'" for c in contract.columns) + "}"
            table = f"t{i}_{f['filing_type']}"
            con.execute(
                f"create table {table} as select * from read_csv(?, header = true, columns = {cols}, "
                f"compression = '{'gzip' if f['compression'] == 'gzip' else 'none'}')",
                [str(manifest_path.parent / f["path"])],
            )
            rows += con.execute(f"select count(*) from {table}").fetchone()[0]
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed, rows


def intake_load(root: Path) -> float:
    home = Home.resolve(root).ensure()
    clock = datetime.now(UTC)
    start = time.perf_counter()
    with writer_lock(home), connect_writer(home) as con:
        take_in(con, home, clock=clock, backfill=True)
        validate_and_decide(con, home, clock)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--months", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    src = scratch / "src"
    generate(
        src / "landing",
        src / "truth.jsonl",
        preset=args.preset,
        seed=args.seed,
        inject="none",
        months=args.months,
    )
    intake_t, raw_t = [], []
    rows = 0
    for r in range(args.repeat):
        a, b = scratch / f"intake{r}", scratch / f"raw{r}"
        shutil.copytree(src / "landing", a / "landing")
        shutil.copytree(src / "landing", b / "landing")
        t, rows = raw_load(b / "landing", b / "raw.duckdb")
        raw_t.append(t)
        intake_t.append(intake_load(a))
    mi, mr = statistics.median(intake_t), statistics.median(raw_t)
    print(
        json.dumps(
            {
                "preset": args.preset,
                "months": args.months,
                "rows": rows,
                "repeat": args.repeat,
                "intake_median_s": round(mi, 2),
                "raw_read_csv_median_s": round(mr, 2),
                "ratio_raw_over_intake": round(mr / mi, 3),
                "intake_rows_per_s": round(rows / mi),
            },
            indent=2,
        )
    )
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
