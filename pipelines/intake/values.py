"""The scan of staged text values that the value checks read (S010, S011, S015 in pipelines/intake/syntax.py)
and the typed load into raw.<filing_type>."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import duckdb

from pipelines.contracts import Column, Contract
from pipelines.warehouse.db import fetch_one

SAMPLE_ROWS = 50


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _invalid_predicate(col: Column) -> str:
    """SQL that is true for a non-null text value that does not parse as the column's type."""
    n = col.name
    checks = []
    if col.kind.syntax:
        checks.append(f"not regexp_full_match({n}, {_sql_str(col.kind.syntax)})")
    if col.type == "date":
        checks.append(f"try_cast({n} as date) is null")
    elif col.type == "timestamp":
        checks.append(f"try_cast({n} as timestamptz) is null")
    elif col.type == "money":
        checks.append(f"try_cast({n} as decimal(20,2)) is null")
    elif col.type == "rate":
        checks.append(f"try_cast({n} as decimal(9,6)) is null")
    if not checks:  # free text: NUL is never data (it truncates strings downstream); typed values reject it
        checks.append(f"contains({n}, chr(0))")
    return f"({n} is not null and ({' or '.join(checks)}))"


@dataclass(frozen=True)
class ValueScan:
    """One scan of a staged file: per contract column the number of non-empty values that do not parse as
    its type, and per control total the sum of its column (compared only when the column has no invalid
    value, so try_cast then equals cast)."""

    invalid: dict[str, int]
    totals: dict[str, Decimal]
    predicates: dict[str, str]


def scan_values(con: duckdb.DuckDBPyConnection, table: str, contract: Contract) -> ValueScan:
    preds = {c.name: _invalid_predicate(c) for c in contract.columns}
    sums = {t: f"coalesce(sum(try_cast({t} as decimal(38,2))), 0)" for t in contract.control_totals}
    aggregates = [f"count(*) filter (where {p})" for p in preds.values()] + list(sums.values())
    scan = fetch_one(con, f"select {', '.join(aggregates)} from {table}") if aggregates else ()
    counts, totals = scan[: len(preds)], dict(zip(sums, scan[len(preds) :], strict=True))
    return ValueScan(dict(zip(preds, counts, strict=True)), totals, preds)


def invalid_sample(con: duckdb.DuckDBPyConnection, table: str, scan: ValueScan, name: str) -> list[tuple]:
    """(row, value) of the first SAMPLE_ROWS invalid values of a column."""
    return con.execute(
        f"select _row, {name} from {table} where {scan.predicates[name]} order by _row limit {SAMPLE_ROWS}"
    ).fetchall()


def insert_raw(con: duckdb.DuckDBPyConnection, table: str, contract: Contract, submission_id: str) -> None:
    """Append the staged rows to raw.<filing_type>, typed as the contract says."""
    casts = ", ".join(
        f"cast({c.name} as {c.duckdb_type})" if c.duckdb_type != "VARCHAR" else c.name
        for c in contract.columns
    )
    con.execute(
        f"insert into raw.{contract.filing_type} (submission_id, _row, {', '.join(contract.column_names)}) "
        f"select ?, _row, {casts} from {table}",
        [submission_id],
    )
