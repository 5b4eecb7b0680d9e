"""`suptech doctor`: check the environment, the warehouse, the snapshots, the landing area and the archive
(logic in pipelines/warehouse/doctor.py)."""

from __future__ import annotations

import sys

import click

from pipelines.commands.common import home_option, out
from pipelines.home import Home

MARK: dict[str, tuple[str, str]] = {  # status -> (colour, label)
    "ok": ("green", "ok"),
    "info": ("cyan", "info"),
    "warning": ("yellow", "warn"),
    "problem": ("red", "PROBLEM"),
}


def register(cli: click.Group) -> None:
    @cli.command()
    @home_option
    @click.option(
        "--timeout",
        type=float,
        default=30.0,
        show_default=True,
        help="Seconds to wait for a running cycle before skipping the warehouse checks.",
    )
    @click.option("--json", "as_json", is_flag=True)
    def doctor(home_dir, timeout, as_json) -> None:
        """Check the installation and the home; for each problem, say what it is and what to do.
        Exit code 0 healthy (information and warnings allowed), 1 problems found.

        Example: suptech doctor --json
        """
        from pipelines.warehouse.doctor import diagnose

        home = Home.resolve(home_dir)
        result = diagnose(home, timeout_s=timeout)
        if as_json:
            out.print_json(result.to_json())
        else:
            out.print(f"suptech doctor: {home.root}")
            area = None
            for c in result.checks:
                if c.area != area:
                    area = c.area
                    out.print(f"\n[bold]{area}[/]")
                color, label = MARK[c.status]
                out.print(f"  [{color}]{label:<8}[/] {c.name}: {c.message}", highlight=False)
                if c.fix and c.status in ("warning", "problem"):
                    out.print(f"      → {c.fix}", highlight=False)
            n = len(result.problems())
            out.print(
                "\n" + ("healthy" if result.healthy else f"[red]{n} problem(s)[/]: see the arrows above")
            )
        sys.exit(0 if result.healthy else 1)
