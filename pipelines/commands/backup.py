"""`suptech backup DIR` and `suptech restore DIR` (logic in pipelines/warehouse/backup.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pipelines.commands.common import err, home_option, out
from pipelines.home import Home


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def register(cli: click.Group) -> None:
    @cli.command("backup")
    @home_option
    @click.argument("folder", type=click.Path(file_okay=False))
    @click.option(
        "--timeout",
        type=float,
        default=None,
        help="Give up after this many seconds if a cycle holds the warehouse (default: wait for it).",
    )
    @click.option("--json", "as_json", is_flag=True)
    def backup_cmd(home_dir, folder, timeout, as_json) -> None:
        """Back up the home into FOLDER (new or empty): landing, archive, warehouse (checkpointed, with the
        writer lock held), audit anchors, keys and truth, with a sha256 manifest. Not backed up: what a cycle
        regenerates (published/, reports/, dbt/, tmp/, logs/). FOLDER holds the pseudonym key: keep it as
        safe as the home.

        Example: suptech backup /backups/suptech-2026-11-21
        """
        from pipelines.warehouse.backup import BackupError, backup
        from pipelines.warehouse.db import WarehouseBusy

        home = Home.resolve(home_dir)
        try:
            r = backup(home, Path(folder), timeout_s=timeout)
        except (BackupError, WarehouseBusy) as exc:
            err.print(f"[red]backup failed: {exc}")
            sys.exit(1)
        head = None if r.audit_head is None else {"seq": r.audit_head[0], "hash": r.audit_head[1]}
        if as_json:
            out.print_json(
                json.dumps(
                    {
                        "folder": str(r.folder),
                        "files": r.files,
                        "bytes": r.bytes,
                        "seconds": round(r.seconds, 3),
                        "schema_version": r.schema_version,
                        "audit_head": head,
                    }
                )
            )
            return
        out.print(f"backed up {r.files} files ({_mb(r.bytes)}) to {r.folder} in {r.seconds:.1f} s")
        if r.audit_head is not None:
            seq, digest = r.audit_head
            out.print(f"audit head: seq {seq} {digest[:16]}…, schema version {r.schema_version}")

    @cli.command("restore")
    @home_option
    @click.argument("folder", type=click.Path(file_okay=False, exists=True))
    @click.option(
        "--force", is_flag=True, help="Replace the data of a home that already holds files with the backup's."
    )
    @click.option(
        "--no-regenerate",
        is_flag=True,
        help="Do not republish the snapshots and reports (the next `suptech run` does).",
    )
    @click.option("--json", "as_json", is_flag=True)
    def restore_cmd(home_dir, folder, force, no_regenerate, as_json) -> None:
        """Restore the backup in FOLDER into the home (which must hold no files, unless --force): every file
        is checked against the manifest, the schema is upgraded if the backup is older than the code, the
        audit log is verified against its anchors, and the snapshots and reports are republished.

        Example: suptech restore /backups/suptech-2026-11-21 --home /srv/suptech
        """
        from pipelines.warehouse.backup import BackupError, restore
        from pipelines.warehouse.migrations import SchemaVersionError

        home = Home.resolve(home_dir)
        try:
            r = restore(Path(folder), home, force=force, regenerate=not no_regenerate)
        except (BackupError, SchemaVersionError) as exc:
            err.print(f"[red]restore failed: {exc}")
            sys.exit(1)
        if as_json:
            out.print_json(
                json.dumps(
                    {
                        "home": str(r.home),
                        "files": r.files,
                        "bytes": r.bytes,
                        "seconds": round(r.seconds, 3),
                        "migrated": r.migrated,
                        "audit_entries": r.audit_entries,
                        "published": r.published,
                        "notes": r.notes,
                    }
                )
            )
            return
        out.print(f"restored {r.files} files ({_mb(r.bytes)}) into {r.home} in {r.seconds:.1f} s")
        out.print(f"audit log intact: {r.audit_entries} entries")
        if r.migrated:
            out.print(f"schema upgraded: migrations {', '.join(map(str, r.migrated))}")
        out.print(
            "snapshots and reports republished"
            if r.published
            else "run `suptech run` to publish the snapshots and reports"
        )
        for note in r.notes:
            err.print(f"note: {note}")
