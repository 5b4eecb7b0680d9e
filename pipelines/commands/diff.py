"""`suptech diff A B`: the field-level difference between two versions of one enterprise x period."""

from __future__ import annotations

import json
import sys

import click
from rich.table import Table

from pipelines.commands.common import err, home_option, out
from pipelines.home import Home


def register(cli: click.Group) -> None:
    @cli.command()
    @home_option
    @click.argument("submission_a")
    @click.argument("submission_b")
    @click.option("--json", "as_json", is_flag=True)
    @click.option(
        "--as",
        "kind",
        type=click.Choice(["analyst", "auditor"]),
        default="analyst",
        show_default=True,
        help="analyst: stored diffs, example keys pseudonymised; auditor: filed keys, and diffs not stored "
        "are computed from the raw rows.",
    )
    def diff(home_dir, submission_a, submission_b, as_json, kind) -> None:
        """Rows added, removed and changed per filing type, changed columns and control totals moved,
        from SUBMISSION_A to SUBMISSION_B (the stored diff; with --as auditor, else computed from the raw
        rows of the auditor snapshot).

        Example: suptech diff PAY0001-2026-10-v1 PAY0001-2026-10-v2
        """
        from pipelines.intake import diff as version_diff
        from pipelines.warehouse.db import connect_reader

        home = Home.resolve(home_dir)
        try:
            con = connect_reader(home, kind)
        except FileNotFoundError as exc:
            err.print(f"[red]{exc}")
            sys.exit(1)
        try:
            found = {
                sid: (ent, period)
                for sid, ent, period in con.execute(
                    "select submission_id, enterprise_id, period from intake.submissions "
                    "where submission_id in (?, ?)",
                    [submission_a, submission_b],
                ).fetchall()
            }
            for sid in (submission_a, submission_b):
                if sid not in found:
                    err.print(f"[red]unknown submission {sid} (not in the published snapshot)")
                    sys.exit(1)
            if found[submission_a] != found[submission_b]:
                err.print(
                    f"[red]{submission_a} and {submission_b} are not versions of the same enterprise and period"
                )
                sys.exit(1)
            diffs = version_diff.stored(con, submission_a, submission_b)
            was_stored = diffs is not None
            if diffs is None and kind == "analyst":
                err.print(
                    f"[red]no stored diff from {submission_a} to {submission_b}: computing one needs the raw "
                    "rows; run it with --as auditor"
                )
                sys.exit(1)
            if diffs is None:
                diffs = version_diff.compute(con, submission_a, submission_b)
        finally:
            con.close()
        if as_json:
            out.print_json(
                json.dumps(
                    {
                        "from": submission_a,
                        "to": submission_b,
                        "stored": was_stored,
                        "filing_types": [d.as_dict() for d in diffs],
                    }
                )
            )
            return
        table = Table(title=f"{submission_a} → {submission_b}" + ("" if was_stored else " (computed)"))
        for col in ("filing type", "old rows", "new rows", "added", "removed", "changed", "columns changed"):
            table.add_column(col)
        for d in diffs:
            cols = ", ".join(f"{c} {n}" for c, (n, _) in sorted(d.fields.items(), key=lambda x: -x[1][0]))
            table.add_row(
                d.filing_type,
                *(str(v) for v in (d.rows_old, d.rows_new, d.rows_added, d.rows_removed, d.rows_changed)),
                cols,
            )
        out.print(table)
        for d in diffs:
            for name, t in d.control_totals.items():
                rel = f"{float(t['rel_change']):+.4%}" if t["rel_change"] is not None else "n/a"
                out.print(f"control total {d.filing_type}.{name}: {t['old']} → {t['new']} ({rel})")
