"""What every `suptech` verb shares: consoles, the --home option, the clock parser and the progress bar."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

err = Console(stderr=True)
out = Console()

home_option = click.option(
    "--home",
    "home_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="SupTech home folder (default: $SUPTECH_HOME or ./var).",
)


def parse_as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator:
    """A rich progress bar driven by (step, done, total) callbacks; silent when not a terminal."""
    if not enabled:
        yield None
        return
    with Progress(
        TextColumn("{task.description:<40}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def update(step: str, done: int, total: int) -> None:
            key = step.split(" ")[0]
            if key not in tasks:
                tasks[key] = bar.add_task(step, total=max(total, 1))
            bar.update(tasks[key], completed=done, total=max(total, 1), description=step[:40])

        yield update
