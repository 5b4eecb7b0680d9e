"""`suptech export`: one Parquet file per table of a schema of the published snapshot, for one period."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import click
import duckdb

from pipelines.commands.common import err, home_option, out
from pipelines.home import Home

PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
BATCH_ROWS = 100_000


@dataclass(frozen=True)
class Exported:
    table: str
    path: Path
    rows: int
    filtered: bool  # False when the table has no `period` column (exported whole)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def export_schema(
    con: duckdb.DuckDBPyConnection, schema: str, period: str | None, out_dir: Path
) -> list[Exported]:
    """Write <out_dir>/<table>.parquet for every table and view of `schema`; rows of `period` only where the
    table has a `period` column. The reader connection is locked (no file writes): DuckDB streams Arrow
    batches and Python writes each file (temp name, then rename)."""
    import pyarrow.parquet as pq

    if period is not None and not PERIOD_RE.match(period):
        raise ValueError(f"period must be YYYY-MM, got {period!r}")
    tables = con.execute(
        "select table_name, bool_or(column_name = 'period') from information_schema.columns "
        "where table_schema = ? group by 1 order by 1",
        [schema],
    ).fetchall()
    if not tables:
        raise LookupError(f"schema {schema!r} has no tables in the published snapshot")
    out_dir.mkdir(parents=True, exist_ok=True)
    done: list[Exported] = []
    for table, has_period in tables:
        source = f"{_ident(schema)}.{_ident(table)}"
        where = f" where period = '{period}'" if period and has_period else ""  # period checked above
        path = out_dir / f"{table}.parquet"
        tmp = path.with_suffix(".parquet.tmp")
        reader = con.sql(f"select * from {source}{where}").to_arrow_reader(BATCH_ROWS)
        rows = 0
        with pq.ParquetWriter(tmp, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
                rows += batch.num_rows
        tmp.replace(path)
        done.append(Exported(table, path, rows, bool(where)))
    return done


def register(cli: click.Group) -> None:
    @cli.command()
    @home_option
    @click.option("--period", default=None, help="Only this period (YYYY-MM) where a table has one.")
    @click.option("--schema", default="marts", show_default=True, help="Schema of the snapshot to export.")
    @click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False),
        required=True,
        help="Folder for the Parquet files (one per table, <table>.parquet).",
    )
    @click.option("--json", "as_json", is_flag=True, help="Print the files written as JSON.")
    def export(home_dir, period, schema, out_dir, as_json) -> None:
        """Export a schema of the published snapshot to Parquet, one file per table.

        Tables with a `period` column keep that period's rows; others (dimensions) are exported whole.

        \b
        Example:
          suptech export --period 2026-10 --schema marts --out /tmp/marts-2026-10

        Exit codes: 0 ok, 1 no snapshot or unknown schema, 2 usage error (e.g. a malformed period).
        """
        from pipelines.warehouse.db import connect_reader

        if period is not None and not PERIOD_RE.match(period):
            raise click.BadParameter("expected YYYY-MM", param_hint="--period")
        con = connect_reader(Home.resolve(home_dir))
        try:
            done = export_schema(con, schema, period, Path(out_dir))
        finally:
            con.close()
        if as_json:
            out.print_json(
                json.dumps(
                    [
                        {"table": d.table, "path": str(d.path), "rows": d.rows, "by_period": d.filtered}
                        for d in done
                    ]
                )
            )
            return
        for d in done:
            out.print(
                f"{d.rows:>10}  {d.path}"
                + ("" if d.filtered or period is None else "  (no period column: all rows)")
            )
        err.print(f"exported {len(done)} tables of {schema} to {out_dir}")
