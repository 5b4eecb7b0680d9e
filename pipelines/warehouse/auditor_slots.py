"""The auditors' snapshot as two slot files behind a pointer, brought up to date by what changed.

published/auditor.duckdb          a symlink, swapped atomically, to the slot readers open
published/slots/auditor-a.duckdb  }  the two slots: one is published, the other is brought up to the live
published/slots/auditor-b.duckdb  }  warehouse's content in place, then the pointer turns to it

Publishing thus costs what changed since the inactive slot's version (two publications ago), not a copy of
the whole warehouse: in one transaction on the slot, with the closed live file attached read-only,
- raw.* (append-only, every row tagged with its submission_id): the rows of the submissions whose row
  count differs between the two files are deleted and copied again (new versions, late filings; none else);
- the tables of dbt's incremental models (dbt_state.incremental_models): the enterprise x period partitions
  that the builds since the slot's version rebuilt (dbt_state.rebuilt_partitions, macros/incremental.sql),
  and those an unfinished build may have touched (the partitions-to-rebuild views, empty after a complete
  build); all of it after a full refresh;
- every other table (intake, quality, seeds, marts and the other models: rebuilt whole by each cycle) is
  copied whole; views are created again where their SQL changed, new schemas are created, and schemas,
  tables and views the warehouse no longer has are dropped.
Readers never see a slot while it changes: the pointer is turned after the slot is committed, checkpointed
and fsynced, and a reader already in the other slot keeps it (DuckDB holds a shared lock on a file open
read-only, so a slot still open by a reader of an old version cannot be opened for writing: that slot is
then made new by a whole copy under a temporary name and renamed, as is a slot with no usable record of its
version - the first publication, a slot the warehouse's audit log does not descend from after a restore, a
schema migration). A killed publication leaves the inactive slot as its last committed state (DuckDB rolls
the open transaction back) and the pointer where it was. The result equals a whole copy of the live file:
tests/integration/test_incremental.py compares every table of both after each cycle.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.home import Home
from pipelines.warehouse.db import snapshot_path
from pipelines.warehouse.settings import apply as apply_settings
from pipelines.warehouse.settings import resolve as resolve_settings

log = logging.getLogger(__name__)

SLOTS = ("a", "b")
SLOTS_DIR = "slots"
# objects besides schemas, tables and views: a slot whose set of them differs is made new by a whole copy
OBJECTS_SQL = """
    select 'sequence ' || schema_name || '.' || sequence_name from duckdb_sequences() where database_name = $db
    union all select 'index ' || coalesce(sql, index_name) from duckdb_indexes() where database_name = $db
    union all select 'macro ' || schema_name || '.' || function_name from duckdb_functions()
        where database_name = $db and not internal
    union all select 'type ' || schema_name || '.' || type_name from duckdb_types()
        where database_name = $db and not internal
    order by 1
"""


@dataclass(frozen=True)
class SlotUpdate:
    """How a publication brought its slot up to date: "in place" or "copy", and why a copy."""

    slot: Path
    method: str
    reason: str = ""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def slot_paths(home: Home) -> dict[str, Path]:
    return {s: home.published / SLOTS_DIR / f"auditor-{s}.duckdb" for s in SLOTS}


def active_slot(home: Home) -> Path | None:
    """The slot the pointer names (None before the first publication, or for a pre-slot plain file)."""
    pointer = snapshot_path(home, "auditor")
    if not pointer.is_symlink():
        return None
    target = (pointer.parent / os.readlink(pointer)).resolve()
    return target if target in {p.resolve() for p in slot_paths(home).values()} else None


def inactive_slot(home: Home) -> Path:
    paths = slot_paths(home)
    active = active_slot(home)
    return paths["b"] if active is not None and active == paths["a"].resolve() else paths["a"]


def point_to(home: Home, slot: Path) -> None:
    """Turn the pointer to `slot` atomically (a new symlink renamed over the old one, or over a plain file)."""
    pointer = snapshot_path(home, "auditor")
    tmp = pointer.with_name(f"{pointer.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    os.symlink(os.path.relpath(slot, pointer.parent), tmp)
    os.replace(tmp, pointer)


def update_slot(
    home: Home,
    slot: Path,
    write_meta: Callable[[duckdb.DuckDBPyConnection], None],
    fsync: Callable[[Path], None],
) -> SlotUpdate:
    """Bring `slot` (the inactive one) to the closed live warehouse's content plus meta.publication
    (`write_meta`), in place where it can, else by a whole copy; committed, checkpointed and fsynced."""
    slot.parent.mkdir(parents=True, exist_ok=True)
    reason = "no slot yet" if not slot.exists() else ""
    if not reason:
        try:
            reason = sync_in_place(home, slot, write_meta)
        except duckdb.IOException as exc:
            reason = "a reader still has it open" if "lock" in str(exc).lower() else f"in place failed: {exc}"
        except duckdb.Error as exc:  # never a reason to stop the cycle: the copy is always right
            reason = f"in place failed: {exc}"
            log.warning("auditor snapshot: %s", reason)
    if reason:
        log.info("auditor snapshot: whole copy into %s (%s)", slot.name, reason)
        copy_whole(home, slot, write_meta)
    fsync(slot)
    return SlotUpdate(slot, "copy" if reason else "in place", reason)


def copy_whole(home: Home, slot: Path, write_meta: Callable[[duckdb.DuckDBPyConnection], None]) -> None:
    tmp = slot.with_name(f"{slot.name}.tmp-{os.getpid()}")
    try:
        shutil.copyfile(home.warehouse, tmp)
        con = duckdb.connect(str(tmp))
        try:
            con.execute("set TimeZone = 'UTC'")
            write_meta(con)
            con.execute("checkpoint")
        finally:
            con.close()
    except BaseException:
        for p in (tmp, tmp.with_name(tmp.name + ".wal")):
            p.unlink(missing_ok=True)
        raise
    # a log left by a killed update belongs to the old file: gone before the new file takes the name
    slot.with_name(slot.name + ".wal").unlink(missing_ok=True)
    os.replace(tmp, slot)  # a reader of the old slot file keeps it until it closes


def sync_in_place(home: Home, slot: Path, write_meta: Callable[[duckdb.DuckDBPyConnection], None]) -> str:
    """Apply the live warehouse's changes to the slot; "" when done, else why it needs a whole copy
    (nothing changed then). Raises duckdb.IOException when a reader holds the slot."""
    con = duckdb.connect(str(slot))
    try:
        apply_settings(con, resolve_settings(home.warehouse))
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        con.execute(f"attach {_lit(str(home.warehouse))} as wh (read_only)")
        sync = _Sync(con)
        reason = sync.refusal()
        if reason:
            return reason
        con.execute("begin transaction")
        try:
            sync.apply()
            write_meta(con)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("detach wh")
        con.execute("checkpoint")
        return ""
    finally:
        con.close()


class _Sync:
    """One slot's update from the live warehouse attached as `wh` (the slot is the connection's catalog)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.slot = con.execute("select current_database()").fetchall()[0][0]

    def _rows(self, sql: str, params: list | dict | None = None) -> list[tuple]:
        return self.con.execute(sql, params).fetchall()

    def _tables(self, db: str) -> dict[tuple[str, str], str]:
        return {
            (s, t): sql
            for s, t, sql in self._rows(
                "select schema_name, table_name, sql from duckdb_tables() where database_name = ?", [db]
            )
        }

    def _views(self, db: str) -> dict[tuple[str, str], str]:
        return {
            (s, v): sql
            for s, v, sql in self._rows(
                "select schema_name, view_name, sql from duckdb_views() where database_name = ? and not internal",
                [db],
            )
        }

    def refusal(self) -> str:
        """Why the slot cannot be updated in place ("" if it can)."""
        slot_tables = self._tables(self.slot)
        if ("meta", "publication") not in slot_tables:
            return "the slot holds no record of its version"
        head = self._rows("select audit_head_seq, audit_head_hash from meta.publication")
        if len(head) != 1 or head[0][0] is None:
            return "the slot holds no record of its version"
        seq, digest = head[0]
        live = self._rows("select hash from wh.intake.audit_log where seq = ?", [seq])
        if not live or live[0][0] != digest:
            return (
                f"the warehouse's audit log does not hold the slot's head (seq {seq}): restored or replaced"
            )
        if self._rows(OBJECTS_SQL, {"db": self.slot}) != self._rows(OBJECTS_SQL, {"db": "wh"}):
            return "schemas, sequences, indexes, macros or types differ (a migration)"
        return ""

    def _schemas(self, db: str) -> set[str]:
        sql = "select schema_name from duckdb_schemas() where database_name = ? and not internal"
        return {s for (s,) in self._rows(sql, [db])}

    def apply(self) -> None:
        live_schemas = self._schemas("wh")
        for schema in sorted(live_schemas - self._schemas(self.slot)):
            self.con.execute(f"create schema {_q(schema)}")
        live_tables, slot_tables = self._tables("wh"), self._tables(self.slot)
        incremental, partitions = self._incremental_changes(live_tables, slot_tables)
        for key in sorted(set(self._views(self.slot)) - set(self._views("wh"))):
            self.con.execute(f"drop view {_q(key[0])}.{_q(key[1])}")
        for key in sorted(set(slot_tables) - set(live_tables)):
            if key != ("meta", "publication"):
                self.con.execute(f"drop table {_q(key[0])}.{_q(key[1])}")
        for key, ddl in sorted(live_tables.items()):
            name = f"{_q(key[0])}.{_q(key[1])}"
            same_ddl = slot_tables.get(key) == ddl
            if same_ddl and key[0] == "raw" and "submission_id" in ddl:
                self._sync_by_submission(name)
            elif same_ddl and key in incremental and partitions is not None:
                self._sync_partitions(name, partitions)
            else:  # dropped and made again: its blocks are freed at the checkpoint
                self.con.execute(f"drop table if exists {name}")
                self.con.execute(ddl)
                self.con.execute(f"insert into {name} select * from wh.{name}")
        slot_views = self._views(self.slot)
        self._create_views({k: sql for k, sql in self._views("wh").items() if slot_views.get(k) != sql})
        for schema in sorted(self._schemas(self.slot) - live_schemas - {"meta"}):
            self.con.execute(f"drop schema {_q(schema)} cascade")

    def _create_views(self, views: dict[tuple[str, str], str]) -> None:
        """Create (or replace) the views, each after the views it names (DuckDB binds a view when it is
        created, and a failed statement would abort the transaction)."""
        every = self._views("wh")
        for schema, view in views:
            self.con.execute(f"drop view if exists {_q(schema)}.{_q(view)}")
        done: set[tuple[str, str]] = set()

        def create(key: tuple[str, str], path: tuple[tuple[str, str], ...]) -> None:
            if key in done or key in path:
                return
            for other in every:
                if other != key and re.search(
                    rf"\b{re.escape(other[0])}\.{re.escape(other[1])}\b", every[key]
                ):
                    create(other, (*path, key))
            if key in views:
                self.con.execute(views[key])
            done.add(key)

        for key in sorted(views):
            create(key, ())

    def _sync_by_submission(self, name: str) -> None:
        """Rows of the submissions whose row count differs between the files (raw rows never change once
        their submission is decided; a new version is a new submission_id)."""
        self.con.execute(
            f"""create or replace temp table changed_submissions as
                select coalesce(live.submission_id, kept.submission_id) as submission_id
                from (select submission_id, count(*) as n from wh.{name} group by all) as live
                full outer join (select submission_id, count(*) as n from {name} group by all) as kept
                    on live.submission_id = kept.submission_id
                where live.n is distinct from kept.n"""
        )
        self.con.execute(
            f"delete from {name} where submission_id in (select submission_id from changed_submissions)"
        )
        self.con.execute(
            f"insert into {name} select * from wh.{name} "
            "where submission_id in (select submission_id from changed_submissions)"
        )

    def _sync_partitions(self, name: str, partitions: str) -> None:
        self.con.execute(
            f"delete from {name} as kept where exists (select 1 from {partitions} as p "
            "where p.enterprise_id = kept.enterprise_id and p.period = kept.period)"
        )
        self.con.execute(
            f"insert into {name} select src.* from wh.{name} as src "
            f"semi join {partitions} as p on p.enterprise_id = src.enterprise_id and p.period = src.period"
        )

    def _incremental_changes(
        self, live_tables: dict[tuple[str, str], str], slot_tables: dict[tuple[str, str], str]
    ) -> tuple[set[tuple[str, str]], str | None]:
        """The incremental models' tables and a temp table of the partitions to bring over (None: all of
        them: a full refresh since the slot's version, or a build record the slot's does not begin)."""
        models, log_table = ("dbt_state", "incremental_models"), ("dbt_state", "rebuilt_partitions")
        if models not in live_tables or log_table not in live_tables or log_table not in slot_tables:
            return set(), None
        incremental = set(self._rows("select schema_name, table_name from wh.dbt_state.incremental_models"))
        slot_seq = self._rows("select coalesce(max(build_seq), 0) from dbt_state.rebuilt_partitions")[0][0]
        same_start = self._rows(
            """select count(*) from (
                   (select * from dbt_state.rebuilt_partitions
                    except all select * from wh.dbt_state.rebuilt_partitions where build_seq <= $seq)
                   union all
                   (select * from wh.dbt_state.rebuilt_partitions where build_seq <= $seq
                    except all select * from dbt_state.rebuilt_partitions))""",
            {"seq": slot_seq},
        )[0][0]
        if same_start:
            return incremental, None
        pending = [
            f"select enterprise_id, period from wh.{_q(s)}.{_q(v)}"
            for s, v in sorted(self._views("wh"))
            if v in ("int_partitions_to_rebuild", "int_aml_partitions_to_rebuild")
        ]
        self.con.execute(
            "create or replace temp table changed_partitions as "
            "select enterprise_id, period from wh.dbt_state.rebuilt_partitions where build_seq > $seq"
            + "".join(f" union {p}" for p in pending),
            {"seq": slot_seq},
        )
        full = self._rows("select count(*) from changed_partitions where enterprise_id is null")[0][0]
        return incremental, None if full else "changed_partitions"
