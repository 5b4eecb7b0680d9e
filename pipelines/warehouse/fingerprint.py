"""Content fingerprints of warehouse tables, computed in DuckDB (backup/restore checks, publish checks,
the kill-and-recover tests of docs/reliability.md).

A table's fingerprint is the sha256 of its rows' md5 digests (of the row cast to text), concatenated in the
order of those digests: it depends on the multiset of rows and every bit of every value (a DOUBLE's text
is its shortest round-trip form), not on the physical row order, the file or the DuckDB instance.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

import duckdb


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def tables_of(con: duckdb.DuckDBPyConnection, schemas: Iterable[str]) -> list[tuple[str, str]]:
    """(schema, table) of every base table and view in the given schemas of the current catalog, sorted."""
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = current_database() and table_schema in (select unnest(?)) order by 1, 2",
        [sorted(set(schemas))],
    ).fetchall()
    return [(s, t) for s, t in rows]


def column_names(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """A table's column names in the current catalog, in their order."""
    rows = con.execute(
        "select column_name from information_schema.columns where table_catalog = current_database() "
        "and table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    return [c for (c,) in rows]


def table_fingerprint(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    exclude: Iterable[str] = (),
    where: str | None = None,
) -> str:
    """sha256 hex of one table's content (row count and columns included; ``exclude`` columns left out,
    only the rows matching the SQL condition ``where`` when given)."""
    cols = [c for c in column_names(con, schema, table) if c not in set(exclude)]
    if not cols:
        return hashlib.sha256(b"").hexdigest()
    row = "row(" + ", ".join(_ident(c) for c in cols) + ")::varchar"
    n, digest = con.execute(
        f"select count(*), sha256(coalesce(string_agg(h, '' order by h), '')) "
        f"from (select md5({row}) as h from {_ident(schema)}.{_ident(table)}"
        f"{f' where {where}' if where else ''})"
    ).fetchall()[0]
    head = f"{schema}.{table}|{','.join(cols)}|{where or ''}|{n}|{digest}"
    return hashlib.sha256(head.encode("utf-8")).hexdigest()


def table_fingerprints(
    con: duckdb.DuckDBPyConnection,
    schemas: Iterable[str],
    *,
    exclude: Mapping[str, Iterable[str]] | None = None,
    where: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """{"schema.table": sha256 hex} for every table and view of the schemas, in name order.

    ``exclude`` maps "schema.table" to columns left out, ``where`` to a SQL condition on the rows compared."""
    exclude, where = exclude or {}, where or {}
    return {
        f"{s}.{t}": table_fingerprint(con, s, t, exclude.get(f"{s}.{t}", ()), where.get(f"{s}.{t}"))
        for s, t in tables_of(con, schemas)
    }


def combined(fingerprints: Mapping[str, str]) -> str:
    """One sha256 over a set of table fingerprints."""
    text = "\n".join(f"{k}={v}" for k, v in sorted(fingerprints.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprints_by_period(
    con: duckdb.DuckDBPyConnection,
    schemas: Iterable[str],
    *,
    skip_tables: Iterable[str] = (),
    skip_columns: Iterable[str] = (),
) -> dict[str | None, str]:
    """{period: sha256 hex} of the rows of each period over every table of the schemas (None: the rows of
    no period). A row's period is its `period` column, else its submission's (intake.submissions), else
    None. ``skip_tables`` ("schema.table") and ``skip_columns`` (a name: in every table; or
    "schema.table.column") are left out.
    One grouped scan per table."""
    skipped_tables, skipped_columns = set(skip_tables), set(skip_columns)
    lines: dict[str | None, list[str]] = {}
    for schema, table in tables_of(con, schemas):
        if f"{schema}.{table}" in skipped_tables:
            continue
        names = column_names(con, schema, table)
        cols = [
            c for c in names if c not in skipped_columns and f"{schema}.{table}.{c}" not in skipped_columns
        ]
        if "period" in names:
            period, join = "t.period", ""
        elif "submission_id" in names:
            period = "s.period"
            join = "left join intake.submissions s on s.submission_id = t.submission_id"
        else:
            period, join = "null", ""
        row = "row(" + ", ".join(f"t.{_ident(c)}" for c in cols) + ")::varchar"
        rows = con.execute(
            f"select p, count(*), sha256(coalesce(string_agg(h, '' order by h), '')) "
            f"from (select {period} as p, md5({row}) as h from {_ident(schema)}.{_ident(table)} t {join}) "
            "group by p"
        ).fetchall()
        for p, n, digest in rows:
            lines.setdefault(p, []).append(f"{schema}.{table}|{','.join(cols)}|{n}|{digest}")
    return {p: hashlib.sha256("\n".join(sorted(ls)).encode("utf-8")).hexdigest() for p, ls in lines.items()}
