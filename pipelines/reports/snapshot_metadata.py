"""What a published snapshot holds, for the Dagster console (asset metadata) and anything else that asks."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from pipelines.warehouse.db import fetch_one

BREACH_ROWS = 50  # rows of the breaches table in the console


@dataclass
class SnapshotSummary:
    row_counts: dict[str, int] = field(default_factory=dict)  # "marts.fct_alerts" -> rows
    submissions_by_status: dict[str, int] = field(default_factory=dict)
    alerts_by_severity: dict[str, int] = field(default_factory=dict)
    breaches_markdown: str = ""
    periods: list[str] = field(default_factory=list)


def _md_cell(value: object) -> str:
    return ("" if value is None else str(value)).replace("|", "\\|").replace("\n", " ")


def summarise_snapshot(con: duckdb.DuckDBPyConnection, periods: list[str]) -> SnapshotSummary:
    """Row counts of the marts and intake tables, submissions by status, alerts of `periods` by severity
    and a markdown table of their BREACH alerts."""
    out = SnapshotSummary(periods=periods)
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('marts', 'intake') and table_type = 'BASE TABLE' order by 1, 2"
    ).fetchall()
    for schema, table in tables:
        out.row_counts[f"{schema}.{table}"] = fetch_one(con, f'select count(*) from {schema}."{table}"')[0]
    out.submissions_by_status = dict(
        con.execute("select status, count(*) from intake.submissions group by 1 order by 1").fetchall()
    )
    if "marts.fct_alerts" not in out.row_counts or not periods:
        return out
    out.alerts_by_severity = dict(
        con.execute(
            "select severity, count(*) from marts.fct_alerts where period in (select unnest(?)) group by 1 order by 1",
            [periods],
        ).fetchall()
    )
    rows = con.execute(
        "select period, enterprise_id, indicator_id, family, message from marts.fct_alerts "
        "where severity = 'BREACH' and period in (select unnest(?)) order by period, family, indicator_id, enterprise_id",
        [periods],
    ).fetchall()
    lines = ["| period | enterprise | indicator | family | message |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(_md_cell(v) for v in r) + " |" for r in rows[:BREACH_ROWS]]
    if len(rows) > BREACH_ROWS:
        lines.append(f"| … | {len(rows) - BREACH_ROWS} more | | | |")
    out.breaches_markdown = "\n".join(lines) if rows else "No BREACH alert in " + ", ".join(periods)
    return out
