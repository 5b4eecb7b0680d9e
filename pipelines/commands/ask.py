"""`suptech ask`: run one of the standard analyst questions (docs/analyst_questions.yml) on the snapshot."""

from __future__ import annotations

import sys

import click

from pipelines.commands.common import err, home_option, out
from pipelines.home import Home


def register(cli: click.Group) -> None:
    @cli.command()
    @home_option
    @click.argument("question_id", required=False)
    @click.option(
        "--period", default=None, help="The period asked about (YYYY-MM); required with a question."
    )
    @click.option(
        "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
    )
    @click.option("--sql", "show_sql", is_flag=True, help="Print the question's SQL instead of running it.")
    def ask(home_dir, question_id, period, fmt, show_sql) -> None:
        """Answer a standard supervisory question from the published snapshot; without an id, list them.

        \b
        Examples:
          suptech ask                                           # the questions and their ids
          suptech ask reserve_breaches_quarter --period 2026-09
          suptech ask aml_alerts_by_typology --period 2026-10 --sql

        The SQL of every question is in docs/analyst_questions.yml (and docs/analysts.md).
        Exit codes: 0 ok, 1 no snapshot or the query failed, 2 usage error (unknown id, bad period).
        """
        import polars as pl

        from pipelines.reports.analyst_questions import PERIOD_RE, load_questions, run_question
        from pipelines.warehouse.db import connect_reader

        questions = {q.id: q for q in load_questions()}
        if question_id is None:
            for q in questions.values():
                out.print(f"[bold]{q.id}[/bold]  {q.question}", soft_wrap=True)
            return
        if question_id not in questions:
            raise click.BadParameter(
                f"unknown question; one of: {', '.join(questions)}", param_hint="QUESTION_ID"
            )
        question = questions[question_id]
        if show_sql:
            sys.stdout.write(question.sql + "\n")
            return
        if period is None or not PERIOD_RE.match(period):
            raise click.BadParameter("give the period as YYYY-MM", param_hint="--period")
        con = connect_reader(Home.resolve(home_dir))
        try:
            df = run_question(con, question, period)
        except Exception as exc:  # noqa: BLE001 - DuckDB's message is the useful part
            err.print(f"[red]query failed:[/red] {exc}")
            sys.exit(1)
        finally:
            con.close()
        err.print(question.question)
        if fmt == "csv":
            sys.stdout.write(df.write_csv())
        elif fmt == "json":
            sys.stdout.write(df.write_json() + "\n")
        else:
            with pl.Config(tbl_rows=200, tbl_cols=-1, fmt_str_lengths=60, tbl_width_chars=200):
                print(df)
