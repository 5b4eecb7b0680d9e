"""`make parity`: the same dbt project on DuckDB and on Apache Spark gives the same supervisory results.

    python -m pipelines.scaleout.parity [--home var/parity] [--seed 1] [--keep]

Generates a `tiny` market with every irregularity class, runs the cycle on the embedded DuckDB (which also
writes the open layout <home>/lake/raw), builds the same dbt project on a local Spark over that layout
(pipelines/scaleout/spark.py) at the same clock, and compares fct_indicator_values, fct_alerts and
fct_risk_scores row for row: rows are matched on each table's key; ids, statuses, texts, counts and dates
must be equal, money and ratios (doubles, decimals) within 0.005 relative. Prints
`parity: N rows compared, M differences` (and the first differences) and exits 1 on any difference or
failure. docs/scale-out.md says what it proves and what it costs.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.home import Home
from pipelines.scaleout.spark import build_on_spark, spark_table

AS_OF = datetime(
    2026, 12, 1, tzinfo=UTC
)  # after the tiny market's last filing deadline (periods 2026-07..10)
RELATIVE_TOLERANCE = 0.005
# the compared marts and the columns that identify a row in each
KEYS: dict[str, tuple[str, ...]] = {
    "fct_indicator_values": (
        "enterprise_id",
        "period",
        "indicator_id",
        "metric",
        "as_of_date",
        "dimension",
        "dimension_value",
    ),
    "fct_alerts": ("alert_id",),
    "fct_risk_scores": ("enterprise_id", "period", "family"),
}
APPROXIMATE_TYPES = ("DOUBLE", "FLOAT", "REAL", "DECIMAL")
SHOWN = 20  # differences printed


@dataclass
class Comparison:
    rows: int = 0  # rows compared (matched keys plus rows on one side only)
    differences: list[str] = field(default_factory=list)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _same(column: str, dtype: str) -> str:
    """SQL true when the DuckDB (d) and Spark (s) values of a column agree."""
    d, s = f"d.{_q(column)}", f"s.{_q(column)}"
    if dtype.startswith(APPROXIMATE_TYPES):
        d, s = f"cast({d} as double)", f"cast({s} as double)"
        return (
            f"(({d} is null and {s} is null) or abs({d} - {s}) <= "
            f"{RELATIVE_TOLERANCE} * greatest(abs({d}), abs({s})) or abs({d} - {s}) < 1e-9)"
        )
    if dtype.startswith("TIMESTAMP"):
        d, s = f"epoch_us({d})", f"epoch_us({s})"
    return f"({d} is not distinct from {s})"


def compare_table(con: duckdb.DuckDBPyConnection, table: str, spark_folder: Path) -> Comparison:
    """Row-for-row comparison of marts.<table> in the attached DuckDB warehouse `duck` with the Parquet
    folder the Spark build wrote."""
    keys = KEYS[table]
    con.execute(f"create or replace temp view d as select * from duck.marts.{_q(table)}")
    files = str(spark_folder / "*.parquet").replace("'", "''")
    con.execute(f"create or replace temp view s as select * from read_parquet('{files}')")
    rel = con.sql("select * from d limit 0")
    columns = dict(zip(rel.columns, (str(t) for t in rel.types), strict=True))
    spark_columns = set(con.sql("select * from s limit 0").columns)
    result = Comparison()
    missing = [c for c in columns if c not in spark_columns]
    if missing:
        result.differences.append(f"{table}: columns missing on Spark: {', '.join(missing)}")
        return result
    key_list = ", ".join(_q(k) for k in keys)
    for side in ("d", "s"):
        dupes = con.sql(
            f"select {key_list}, count(*) from {side} group by all having count(*) > 1"
        ).fetchall()
        for row in dupes[:SHOWN]:
            result.differences.append(f"{table}: key {row[:-1]} appears {row[-1]} times on {side}")
    on = " and ".join(f"d.{_q(k)} is not distinct from s.{_q(k)}" for k in keys)
    present_d, present_s = f"d.{_q(keys[0])} is not null", f"s.{_q(keys[0])} is not null"
    checks = [c for c in columns if c not in keys]
    select = ", ".join(
        [f"coalesce(d.{_q(k)}, s.{_q(k)}) as {_q(k)}" for k in keys]
        + [f"{present_d} as in_d", f"{present_s} as in_s"]
        + [f"not {_same(c, columns[c])} as {_q('diff_' + c)}" for c in checks]
        + [f"d.{_q(c)} as {_q('d_' + c)}, s.{_q(c)} as {_q('s_' + c)}" for c in checks]
    )
    con.execute(f"create or replace temp table joined as select {select} from d full outer join s on {on}")
    result.rows = con.sql("select count(*) from joined").fetchall()[0][0]
    for row in con.sql("select * from joined where not in_d or not in_s order by all").fetchall():
        key = dict(zip(keys, row[: len(keys)], strict=True))
        side = "Spark only" if not row[len(keys)] else "DuckDB only"
        result.differences.append(f"{table}: {side}: {key}")
    for column in checks:
        bad = con.sql(
            f"select {key_list}, {_q('d_' + column)}, {_q('s_' + column)} from joined "
            f"where in_d and in_s and {_q('diff_' + column)} order by all"
        ).fetchall()
        for row in bad:
            key = dict(zip(keys, row[: len(keys)], strict=True))
            result.differences.append(f"{table}.{column} at {key}: DuckDB {row[-2]!r} vs Spark {row[-1]!r}")
    return result


def compare(home: Home) -> Comparison:
    """Every compared mart of the home's DuckDB warehouse against the Spark build's."""
    total = Comparison()
    con = duckdb.connect()
    try:
        path = str(home.warehouse).replace("'", "''")
        con.execute(f"attach '{path}' as duck (read_only)")
        for table in KEYS:
            folder = spark_table(home, "marts", table)
            if not folder.is_dir():
                total.differences.append(f"{table}: the Spark build wrote no table ({folder})")
                continue
            part = compare_table(con, table, folder)
            total.rows += part.rows
            total.differences += part.differences
    finally:
        con.close()
    return total


def _suptech(*args: str) -> None:
    cmd = [str(Path(sys.executable).parent / "suptech"), *args]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.scaleout.parity", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--home", type=Path, default=Path("var/parity"), help="Folder to use (replaced).")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--reuse", action="store_true", help="Keep the home's DuckDB cycle; rebuild on Spark only."
    )
    args = parser.parse_args(argv)
    home = Home.resolve(args.home.resolve())
    started = time.monotonic()
    if not args.reuse:
        shutil.rmtree(home.root, ignore_errors=True)
        print(f"parity: generating tiny market, seed {args.seed} (every irregularity class) in {home.root}")
        _suptech("synth", "--home", str(home.root), "--preset", "tiny", "--seed", str(args.seed))
        print(f"parity: cycle on DuckDB as of {AS_OF.isoformat()} (writes {home.root / 'lake' / 'raw'})")
        _suptech("run", "--home", str(home.root), "--backfill", "--as-of", AS_OF.isoformat())
    duck_s = time.monotonic() - started
    print("parity: dbt build on local Spark over the open layout")
    build = build_on_spark(home, AS_OF)
    print(f"parity: {build.summary()}")
    if not build.success:
        for uid, message in list(build.failures.items())[:SHOWN]:
            print(f"  {uid}: {message[:400]}")
        print(f"parity: the Spark build failed; nothing compared (DuckDB route {duck_s:.0f} s)")
        return 1
    result = compare(home)
    print(f"parity: {result.rows} rows compared, {len(result.differences)} differences")
    for line in result.differences[:SHOWN]:
        print(f"  {line}")
    print(f"parity: DuckDB route {duck_s:.0f} s, Spark build {build.elapsed_s:.0f} s")
    return 0 if not result.differences and result.rows > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
