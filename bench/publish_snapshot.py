"""Publishing the snapshot: whole-file copy (what publish_snapshot does) against writing a new file that holds
only the curated schemas (marts, intake, quality, seeds).

    .venv/bin/python -m bench.publish_snapshot --home /tmp/D/tiny --repeat 3

Reads <home>/warehouse/suptech.duckdb (no cycle may be running), writes scratch copies under --out.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from pathlib import Path

import duckdb

from pipelines.home import Home

CURATED = ("marts", "intake", "quality", "seeds")


def copy_whole(src: Path, out: Path) -> Path:
    target = out / "full.duckdb"
    shutil.copyfile(src, target)
    return target


def copy_curated(src: Path, out: Path) -> Path:
    target = out / "curated.duckdb"
    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target))
    try:
        con.execute(f"attach '{src}' as w (read_only)")
        for schema in CURATED:
            con.execute(f"create schema {schema}")
            tables = con.execute(
                "select table_name from information_schema.tables where table_catalog = 'w' "
                "and table_schema = ? and table_type = 'BASE TABLE'",
                [schema],
            ).fetchall()
            for (table,) in tables:
                con.execute(f'create table {schema}."{table}" as select * from w.{schema}."{table}"')
    finally:
        con.close()
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True)
    parser.add_argument("--out", default="/tmp/suptech-bench-publish")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    src = Home.resolve(args.home).warehouse
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"warehouse {src}: {src.stat().st_size / 1e6:.1f} MB")
    for name, fn in (("whole-file copy", copy_whole), ("curated schemas only", copy_curated)):
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            target = fn(src, out)
            times.append(time.perf_counter() - t0)
        print(
            f"{name:<22} median {statistics.median(times):.3f} s  size {target.stat().st_size / 1e6:.1f} MB"
        )


if __name__ == "__main__":
    main()
