"""`suptech report ...`: the HTML reports of a period, written under <home>/reports/<kind>/<period>.html."""

from __future__ import annotations

import json

import click

from pipelines.commands.common import err, home_option, out
from pipelines.home import Home


def _period(ctx, param, value: str) -> str:
    from pipelines.reports.analyst_questions import PERIOD_RE

    if not PERIOD_RE.match(value):
        raise click.BadParameter("expected YYYY-MM")
    return value


def register(cli: click.Group) -> None:
    @cli.group()
    def report() -> None:
        """Write a period's HTML reports (self-contained files: open them in any browser, offline).

        \b
        Examples:
          suptech report supervision --period 2026-10
        """

    @report.command()
    @home_option
    @click.option("--period", required=True, callback=_period, help="The period (YYYY-MM).")
    @click.option("--json", "as_json", is_flag=True, help="Print the report's path as JSON.")
    def supervision(home_dir, period, as_json) -> None:
        """The supervision report of a period: alerts by family and severity, the risk ranking, charts
        (reserve coverage, flow direction, complaints against peers, overdue buckets and roll rates, AML
        alerts) and every alert's evidence rows. Read from the published snapshot.

        \b
        Example:
          suptech report supervision --period 2026-10
          # -> <home>/reports/supervision/2026-10.html

        Exit codes: 0 written, 1 no published snapshot, 2 usage error.
        """
        from pipelines.reports.supervision_report import write_supervision_report
        from pipelines.warehouse.db import connect_reader

        home = Home.resolve(home_dir)
        con = connect_reader(home)
        try:
            path = write_supervision_report(con, home.reports, period)
        finally:
            con.close()
        if as_json:
            out.print_json(json.dumps({"period": period, "path": str(path)}))
        else:
            out.print(str(path))
            err.print(f"open it in a browser: file://{path}")

    @report.command()
    @home_option
    @click.option("--period", required=True, callback=_period, help="The period (YYYY-MM).")
    @click.option(
        "--gx-docs/--no-gx-docs",
        default=True,
        show_default=True,
        help="Also build the Great Expectations Data Docs of the period into <home>/reports/gx_docs/.",
    )
    @click.option("--json", "as_json", is_flag=True, help="Print the report's path as JSON.")
    def quality(home_dir, period, gx_docs, as_json) -> None:
        """The auditor's quality report of a period: submission status by enterprise, late and missing
        filings, rule hit rates, resubmission history, acknowledged warnings with reasons, and a link to the
        Great Expectations Data Docs (built offline). Read from the published snapshots: the report from the
        analysts' one, the Data Docs (validation of the delivered rows) from the auditors' one.

        \b
        Example:
          suptech report quality --period 2026-10
          # -> <home>/reports/quality/2026-10.html, <home>/reports/gx_docs/index.html

        Exit codes: 0 written, 1 no published snapshot, 2 usage error.
        """
        from pipelines.reports.quality_report import write_quality_report
        from pipelines.warehouse.db import connect_reader

        home = Home.resolve(home_dir)
        docs = None
        if gx_docs:
            from pipelines.reports.gx_docs import build_gx_docs

            # the suites validate the delivered rows (raw.*), which only the auditor snapshot holds
            con = connect_reader(home, "auditor")
            try:
                docs = build_gx_docs(con, home.reports / "gx_docs", period)
            finally:
                con.close()
        con = connect_reader(home)
        try:
            path = write_quality_report(con, home.reports, period)
        finally:
            con.close()
        if as_json:
            out.print_json(
                json.dumps({"period": period, "path": str(path), "gx_docs": str(docs) if docs else None})
            )
        else:
            out.print(str(path))
            err.print(f"open it in a browser: file://{path}")
