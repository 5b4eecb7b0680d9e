"""`suptech filings --period YYYY-MM`: who has filed, on time, late or not at all (published snapshot)."""

from __future__ import annotations

import json
import sys

import click
import duckdb
from rich.table import Table

from pipelines.commands.common import err, home_option, out
from pipelines.home import Home

QUERY = """
select enterprise_id, ent_type, timeliness_status, days_late, versions_received, current_submission_id, due_at
from marts.fct_filing_timeliness where period = ? order by enterprise_id
"""


def describe(status: str, days_late: int | None) -> str:
    """One cell of the matrix: on time, late n days, missing, or pending (n days past due)."""
    if status == "late":
        return f"late {days_late} day{'s' if days_late != 1 else ''}"
    if status == "pending" and days_late:
        return f"pending ({days_late} day{'s' if days_late != 1 else ''} past due)"
    return status.replace("_", " ")


def register(cli: click.Group) -> None:
    @cli.command()
    @home_option
    @click.option("--period", required=True, help="Reporting period (YYYY-MM).")
    @click.option("--json", "as_json", is_flag=True)
    def filings(home_dir, period, as_json) -> None:
        """Expected vs received filings of a period, per enterprise: on time, late n days, missing, pending.

        Example: suptech filings --period 2026-10
        """
        from pipelines.warehouse.db import connect_reader

        home = Home.resolve(home_dir)
        try:
            con = connect_reader(home)
        except FileNotFoundError as exc:
            err.print(f"[red]{exc}")
            sys.exit(1)
        try:
            rows = con.execute(QUERY, [period]).fetchall()
        except duckdb.CatalogException:
            err.print("[red]the snapshot has no marts.fct_filing_timeliness: run `suptech run` with marts")
            sys.exit(1)
        finally:
            con.close()
        if not rows:
            err.print(f"[yellow]no filing is expected for {period} (or the period has not ended yet)")
        counts: dict[str, int] = {}
        for r in rows:
            counts[r[2]] = counts.get(r[2], 0) + 1
        if as_json:
            out.print_json(
                json.dumps(
                    {
                        "period": period,
                        "counts": counts,
                        "enterprises": [
                            {
                                "enterprise_id": ent,
                                "ent_type": et,
                                "status": status,
                                "days_late": days,
                                "text": describe(status, days),
                                "versions_received": n,
                                "current_submission_id": current,
                            }
                            for ent, et, status, days, n, current, _ in rows
                        ],
                    }
                )
            )
            return
        due = rows[0][6].isoformat() if rows else "n/a"
        table = Table(title=f"Filings for {period} (due {due})")
        for col in ("enterprise", "type", "filing", "versions", "current version"):
            table.add_column(col)
        for ent, et, status, days, n, current, _ in rows:
            table.add_row(ent, et, describe(status, days), str(n), current or "")
        out.print(table)
        out.print(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(counts.items())))
