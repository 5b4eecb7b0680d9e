"""`suptech acknowledge SUBMISSION RULE --reason TEXT`: acknowledge a warning with a reason."""

from __future__ import annotations

import getpass
import sys

import click

from pipelines.commands.common import err, home_option, out, parse_as_of
from pipelines.home import Home


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "unknown"


def register(cli: click.Group) -> None:
    @cli.command()
    @home_option
    @click.argument("submission_id")
    @click.argument("rule_id")
    @click.option("--reason", required=True, help="Why the warning is correct (kept forever).")
    @click.option("--by", "by", default=None, help="Who acknowledges (default: the login name).")
    @click.option("--as-of", "as_of", default=None, help="The warehouse clock (ISO timestamp); default: now.")
    def acknowledge(home_dir, submission_id, rule_id, reason, by, as_of) -> None:
        """Acknowledge the findings of a warning rule on a submission, with a reason.

        Waits for a running cycle (writer lock), then republishes the snapshot.

        Example: suptech acknowledge PAY0001-2026-10-v1 Q001 --reason "seasonal campaign" --by "Li Wei"
        """
        from pipelines.cycle import utcnow
        from pipelines.intake.acknowledge import AcknowledgeError
        from pipelines.intake.acknowledge import acknowledge as record
        from pipelines.warehouse.db import connect_writer, publish_snapshot, writer_lock

        home = Home.resolve(home_dir)
        if not home.warehouse.exists():
            err.print(f"[red]no warehouse at {home.warehouse}: run `suptech run` first")
            sys.exit(1)
        at = parse_as_of(as_of) or utcnow()
        who = by if by is not None else _login()
        with writer_lock(home):
            try:
                with connect_writer(home) as con:
                    n = record(con, submission_id, rule_id, reason, who, at)
            except AcknowledgeError as exc:
                err.print(f"[red]{exc}")
                sys.exit(1)
            publish_snapshot(home)
        out.print(f"acknowledged {rule_id} on {submission_id} ({n} finding(s)) by {who}")
