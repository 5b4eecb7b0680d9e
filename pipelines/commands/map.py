"""`suptech map DATASET --out LANDING`: a public dataset as complete submission packages
(pipelines/mappings), ready for the normal intake."""

from __future__ import annotations

import os
from pathlib import Path

import click

from pipelines.commands.common import err, out

DEFAULT_DATA = "/work/shared/data"


def register(cli: click.Group) -> None:
    from pipelines.mappings.common import datasets

    @cli.command("map")
    @click.argument("dataset", type=click.Choice(datasets()))
    @click.option("--out", "landing", type=click.Path(file_okay=False), required=True, help="Landing folder.")
    @click.option(
        "--data",
        "data_root",
        type=click.Path(file_okay=False, exists=True),
        default=lambda: os.environ.get("SUPTECH_DATA", DEFAULT_DATA),
        show_default="$SUPTECH_DATA or /work/shared/data",
        help="Folder holding the datasets (each mapping names its file under it).",
    )
    @click.option("--limit", type=int, default=None, help="Only the first N source rows (a slice).")
    def map_cmd(dataset: str, landing: str, data_root: str, limit: int | None) -> None:
        """Write DATASET's packages under LANDING (one per period, complete, manifest last)."""
        from pipelines.mappings.convert import map_dataset

        try:
            result = map_dataset(dataset, Path(data_root), Path(landing), limit)
        except (ValueError, FileNotFoundError, FileExistsError) as exc:
            err.print(f"[red]map {dataset}: {exc}[/red]")
            raise SystemExit(2) from exc
        out.print(
            f"{dataset}: {result.rows} source rows -> {len(result.packages)} package(s) of "
            f"{result.enterprise_id} under {landing}"
        )
        for sid in result.packages:
            out.print(f"  {sid}")
