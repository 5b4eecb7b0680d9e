"""Syntax checks on staged text values (S010, S011, S015) and the typed load into raw.<filing_type>."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import duckdb

from pipelines.contracts import Column, Contract
from pipelines.intake.manifest import FileEntry
from pipelines.warehouse.db import fetch_one

SAMPLE_ROWS = 50


@dataclass(frozen=True)
class ValueProblem:
    rule_id: str
    message: str
    row_number: int | None = None
    field: str | None = None
    value: str | None = None


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


def check_values(
    con: duckdb.DuckDBPyConnection, table: str, rows: int, contract: Contract, entry: FileEntry
) -> list[ValueProblem]:
    """Row count, parsable values and control totals of one staged file."""
    problems: list[ValueProblem] = []
    if rows != entry.row_count:
        problems.append(
            ValueProblem(
                "S010", f"{entry.path} has {rows} data rows but the manifest says row_count {entry.row_count}"
            )
        )
    preds = {c.name: _invalid_predicate(c) for c in contract.columns}
    # one scan for every column's invalid-value count and every control total's sum; a sum is only
    # compared when its column has no invalid value, so try_cast then equals cast
    sums = {t: f"coalesce(sum(try_cast({t} as decimal(38,2))), 0)" for t in contract.control_totals}
    aggregates = [f"count(*) filter (where {p})" for p in preds.values()] + list(sums.values())
    scan = fetch_one(con, f"select {', '.join(aggregates)} from {table}") if aggregates else ()
    counts, totals = scan[: len(preds)], dict(zip(sums, scan[len(preds) :], strict=True))
    bad_cols: set[str] = set()
    for (name, pred), count in zip(preds.items(), counts, strict=True):
        if not count:
            continue
        bad_cols.add(name)
        col = contract.column(name)
        sample = con.execute(
            f"select _row, {name} from {table} where {pred} order by _row limit {SAMPLE_ROWS}"
        ).fetchall()
        for row, value in sample:
            what = (
                "contains a NUL byte: remove control characters"
                if "\x00" in value
                else f"is not a valid {col.type} ({col.kind.description})"
            )
            problems.append(
                ValueProblem(
                    "S015",
                    f"{name} = {value[:60]!r} {what}" + (f"; {count} rows in all" if count > 1 else ""),
                    row,
                    name,
                    value,
                )
            )
    for total in contract.control_totals:
        declared = entry.control_totals.get(total)
        if declared is None:
            problems.append(
                ValueProblem(
                    "S011", f"the manifest must give control_totals.{total} for {contract.filing_type}"
                )
            )
            continue
        if total in bad_cols:
            continue  # already reported as unparsable values
        actual = totals[total]
        if Decimal(actual) != declared:
            problems.append(
                ValueProblem(
                    "S011",
                    f"control total {total}: the file sums to {actual} but the manifest says {declared}",
                    field=total,
                    value=str(actual),
                )
            )
    for name in entry.control_totals:
        if name not in contract.control_totals:
            problems.append(
                ValueProblem(
                    "S011", f"control_totals.{name} is not a control total of {contract.filing_type}"
                )
            )
    return problems


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
