"""The analysts' read-only SQL page: one SELECT over the published analyst snapshot.

Two locks, either enough on its own: the statement must be a single SELECT (parsed by DuckDB itself, so
comments and string tricks do not hide a second statement), and it runs on `connect_reader` (read-only file,
external access off, extensions off, configuration locked: no write, no file read, no ATTACH, no SET). A
query running longer than QUERY_SECONDS is interrupted.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines.home import Home
from pipelines.warehouse.db import connect_reader

MAX_SQL_CHARS = 20_000
PAGE_ROWS = 500
DOWNLOAD_ROWS = 1_000_000
QUERY_SECONDS = 30


class QueryRefused(ValueError):
    """The statement is not one read-only SELECT, or it failed; the message says why."""


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple]
    truncated: bool


def check(sql: str) -> str:
    sql = (sql or "").strip()
    if not sql:
        raise QueryRefused("write a SELECT statement")
    if len(sql) > MAX_SQL_CHARS:
        raise QueryRefused(f"the statement is longer than {MAX_SQL_CHARS} characters")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryRefused(f"the statement does not parse: {exc}") from None
    if len(statements) != 1:
        raise QueryRefused("send exactly one statement (a single SELECT)")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        name = getattr(kind, "name", str(kind))
        raise QueryRefused(
            f"only SELECT is allowed here ({name} refused): the snapshot is read-only, with no file access"
        )
    return sql


def _run(home: Home, sql: str, limit: int) -> pl.DataFrame:
    sql = check(sql)
    con = connect_reader(home, "analyst")
    timer = threading.Timer(QUERY_SECONDS, con.interrupt)
    timer.start()
    try:
        rel = con.sql(sql)
        if rel is None:
            raise QueryRefused("the statement returns no rows")
        df = pl.from_arrow(rel.limit(limit + 1).to_arrow_table())
        assert isinstance(df, pl.DataFrame)
        return df
    except duckdb.Error as exc:
        raise QueryRefused(f"{type(exc).__name__}: {exc}") from None
    finally:
        timer.cancel()
        con.close()


def run(home: Home, sql: str, limit: int = PAGE_ROWS) -> Result:
    df = _run(home, sql, limit)
    truncated = df.height > limit
    df = df.head(limit)
    return Result(df.columns, df.rows(), truncated)


def export(home: Home, sql: str, fmt: str) -> tuple[bytes, str]:
    """(file bytes, media type) of the whole result, at most DOWNLOAD_ROWS rows."""
    df = _run(home, sql, DOWNLOAD_ROWS).head(DOWNLOAD_ROWS)
    buf = io.BytesIO()
    if fmt == "parquet":
        df.write_parquet(buf)
        return buf.getvalue(), "application/vnd.apache.parquet"
    if fmt == "csv":
        # nested values (lists, structs) become their text form
        flat = df.with_columns(
            [pl.col(c).cast(pl.String) for c, t in df.schema.items() if t.is_nested() or t == pl.Object]
        )
        flat.write_csv(buf)
        return buf.getvalue(), "text/csv; charset=utf-8"
    raise QueryRefused(f"unknown format {fmt!r}: csv or parquet")
