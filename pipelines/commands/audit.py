"""`suptech audit verify`: recompute the intake audit log's hash chain and check it against its anchors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import duckdb

from pipelines.commands.common import err, home_option, out
from pipelines.home import Home


def _snapshot_head(home: Home) -> tuple[int, str] | None:
    """The published snapshot's audit head (as recorded at publication, else its log's end), if any."""
    from pipelines.intake.audit import head, publication_head
    from pipelines.warehouse.db import snapshot_path

    path = snapshot_path(home)
    if not path.exists():
        return None
    con = duckdb.connect(str(path), read_only=True)
    try:
        return publication_head(con) or head(con)
    finally:
        con.close()


def verify_live(home: Home, timeout_s: float):
    """Verify the live warehouse's log, read-only, under the writer lock (WarehouseBusy while a cycle runs)."""
    from pipelines.intake.audit import verify_home
    from pipelines.warehouse.db import writer_lock

    if not home.warehouse.exists():
        raise FileNotFoundError(f"no warehouse at {home.warehouse}: run `suptech run` first")
    with writer_lock(home, timeout_s=timeout_s):
        published = _snapshot_head(home)
        con = duckdb.connect(str(home.warehouse), read_only=True)
        try:
            return verify_home(home.root, con, published_head=published)
        finally:
            con.close()


def verify_snapshot(home: Home):
    from pipelines.intake.audit import verify_home
    from pipelines.warehouse.db import connect_reader

    con = connect_reader(home)
    try:
        return verify_home(home.root, con, snapshot=True)
    finally:
        con.close()


def register(cli: click.Group) -> None:
    @cli.group()
    def audit() -> None:
        """The hash-chained log of every intake action."""

    @audit.command()
    @home_option
    @click.option(
        "--snapshot",
        is_flag=True,
        help="Verify the published snapshot's copy of the log instead of the live warehouse.",
    )
    @click.option("--warehouse", "live", is_flag=True, hidden=True, help="The default (kept for scripts).")
    @click.option(
        "--timeout",
        type=float,
        default=30.0,
        show_default=True,
        help="Seconds to wait for a running cycle to release the warehouse.",
    )
    @click.option("--json", "as_json", is_flag=True)
    def verify(home_dir, snapshot, live, timeout, as_json) -> None:
        """Recompute the chain, check it against the anchors in <home>/audit/head.log and name the first
        problem. Reads the live warehouse (read-only, waiting for a running cycle); --snapshot reads the
        published copy. Exit code 0 intact, 1 broken or unreadable.

        Example: suptech audit verify --json
        """
        from pipelines.warehouse.db import WarehouseBusy

        home = Home.resolve(home_dir)
        try:
            if snapshot:
                result, source = verify_snapshot(home), "published snapshot"
            else:
                result, source = verify_live(home, timeout), str(home.warehouse)
        except WarehouseBusy:
            err.print(
                f"[red]a cycle is running and holds the warehouse for more than {timeout:g} s: "
                "verify again when it ends (or --timeout N), or check the published copy with --snapshot"
            )
            sys.exit(1)
        except (FileNotFoundError, duckdb.Error) as exc:
            err.print(f"[red]cannot read the audit log: {exc}")
            sys.exit(1)
        _print(result, source, Path(home.root), as_json)
        sys.exit(0 if result.intact else 1)


def _print(result, source: str, root: Path, as_json: bool) -> None:
    brk, last = result.first_break, result.last_anchor
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "source": source,
                    "entries": result.entries,
                    "intact": result.intact,
                    "first_break": None if brk is None else {"seq": brk.seq, "problem": brk.problem},
                    "head": {"seq": result.head[0], "hash": result.head[1]},
                    "last_anchor": None
                    if last is None
                    else {"seq": last.seq, "hash": last.hash, "at": last.at},
                    "notes": list(result.notes),
                }
            )
        )
        return
    if brk is None:
        anchored = f", anchored up to seq {last.seq}" if last else ""
        out.print(f"audit log intact: {result.entries} entries{anchored} ({source})")
    else:
        where = f"entry {brk.seq}" if brk.seq is not None else "the log as a whole"
        err.print(f"[red]audit log broken at {where}: {brk.problem} ({source})")
    for note in result.notes:
        err.print(f"note: {note}")
