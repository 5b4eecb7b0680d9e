"""`suptech audit verify`: recompute the intake audit log's hash chain."""

from __future__ import annotations

import json
import sys

import click
import duckdb

from pipelines.commands.common import err, home_option, out
from pipelines.home import Home


def register(cli: click.Group) -> None:
    @cli.group()
    def audit() -> None:
        """The hash-chained log of every intake action."""

    @audit.command()
    @home_option
    @click.option(
        "--warehouse",
        "live",
        is_flag=True,
        help="Check the live warehouse (waits for the writer lock) instead of the published snapshot.",
    )
    @click.option("--json", "as_json", is_flag=True)
    def verify(home_dir, live, as_json) -> None:
        """Recompute the chain and name the first broken entry. Exit code 0 intact, 1 broken.

        Example: suptech audit verify --json
        """
        from pipelines.intake.audit import verify as verify_chain
        from pipelines.warehouse.db import connect_reader, writer_lock

        home = Home.resolve(home_dir)
        try:
            if live:
                with writer_lock(home):
                    con = duckdb.connect(str(home.warehouse), read_only=True)
                    try:
                        result, source = verify_chain(con), str(home.warehouse)
                    finally:
                        con.close()
            else:
                con = connect_reader(home)
                try:
                    result, source = verify_chain(con), "published snapshot"
                finally:
                    con.close()
        except (FileNotFoundError, duckdb.Error) as exc:
            err.print(f"[red]cannot read the audit log: {exc}")
            sys.exit(1)
        brk = result.first_break
        if as_json:
            out.print_json(
                json.dumps(
                    {
                        "source": source,
                        "entries": result.entries,
                        "intact": result.intact,
                        "first_break": None if brk is None else {"seq": brk.seq, "problem": brk.problem},
                    }
                )
            )
        elif brk is None:
            out.print(f"audit log intact: {result.entries} entries ({source})")
        else:
            where = f"entry {brk.seq}" if brk.seq is not None else "after the last entry"
            err.print(f"[red]audit log broken at {where}: {brk.problem} ({source})")
        sys.exit(0 if result.intact else 1)
