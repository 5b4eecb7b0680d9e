"""Versioned schema migrations of the warehouse file.

meta.schema_version holds one row per version applied (version, applied_at, description). A warehouse
without that table but with intake.audit_log was written before versioning: version 0, the schema as
landed before migrations existed. `upgrade` applies the missing migrations in order, in one transaction
with an audit entry "schema_migrated"; a warehouse newer than this code is refused before anything is
touched. Add a migration by appending to MIGRATIONS (never edit or reorder an applied one) and change
the DDL in schema.py so that fresh warehouses get the same result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[duckdb.DuckDBPyConnection], None]


class SchemaVersionError(RuntimeError):
    """The warehouse was written by a newer version of the project; the message says what to do."""


META_DDL = """
create schema if not exists meta;
create table if not exists meta.schema_version (
    version     integer primary key,
    applied_at  timestamptz not null,
    description varchar not null
);
"""


def _version_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(META_DDL)


def _relative_archive_paths(con: duckdb.DuckDBPyConnection) -> None:
    """Archive paths were absolute (<home>/archive/<enterprise>/<submission>/<n>); the intake now stores
    them relative to the home (archive/...), so a moved or restored home finds its archive. The audit log
    keeps the paths as they were recorded (it is never rewritten)."""
    for table in ("intake.submissions", "intake.deliveries"):
        con.execute(
            f"update {table} set archive_path = 'archive/' || regexp_extract(archive_path, '^.*/archive/(.*)$', 1) "
            "where archive_path like '/%' and archive_path like '%/archive/%'"
        )


MIGRATIONS: list[Migration] = [
    Migration(1, "meta.schema_version: the warehouse records its schema version", _version_table),
    Migration(
        2,
        "archive paths relative to the home (archive/<enterprise>/<submission>/<n>)",
        _relative_archive_paths,
    ),
]


def latest() -> int:
    return MIGRATIONS[-1].version


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    from pipelines.warehouse.db import fetch_one  # late: db imports schema, which imports this module

    (n,) = fetch_one(
        con,
        "select count(*) from information_schema.tables where table_catalog = current_database() "
        "and table_schema = ? and table_name = ?",
        [schema, table],
    )
    return n > 0


def current_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The warehouse's schema version; 0 for a warehouse from before versioning, None for an empty file."""
    from pipelines.warehouse.db import fetch_one  # late: db imports schema, which imports this module

    if _exists(con, "meta", "schema_version"):
        (v,) = fetch_one(con, "select coalesce(max(version), 0) from meta.schema_version")
        return int(v)
    return 0 if _exists(con, "intake", "audit_log") else None


def _db_path(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    return row[0] if row and row[0] else "(in memory)"


def refuse_newer(con: duckdb.DuckDBPyConnection, version: int | None) -> None:
    if version is not None and version > latest():
        raise SchemaVersionError(
            f"the warehouse {_db_path(con)} has schema version {version}, newer than this project's {latest()}: "
            "it was written by a newer SupTech Warehouse. Upgrade the project (update the checkout, then "
            "`uv sync`) and run again; this version leaves the file untouched."
        )


def record_created(con: duckdb.DuckDBPyConnection) -> None:
    """A warehouse created now by the current DDL is at the latest version."""
    _version_table(con)
    con.execute(
        "insert into meta.schema_version values (?, ?, ?) on conflict do nothing",
        [latest(), datetime.now(UTC), f"created at version {latest()}"],
    )


def upgrade(con: duckdb.DuckDBPyConnection, version: int, prepare: Callable[[], None]) -> list[int]:
    """Apply the migrations after `version` in one transaction with a "schema_migrated" audit entry
    (anchored after the commit); `prepare` (the idempotent DDL) runs first in the same transaction.
    Returns the versions applied."""
    from pipelines.intake import audit, lifecycle  # late: lifecycle imports the audit log's module

    pending = [m for m in MIGRATIONS if m.version > version]
    if not pending:
        return []
    now = datetime.now(UTC)
    with lifecycle.transaction(con):
        prepare()
        for m in pending:
            m.apply(con)
            _version_table(con)
            con.execute("insert into meta.schema_version values (?, ?, ?)", [m.version, now, m.description])
        audit.append(
            con,
            "schema_migrated",
            None,
            now,
            {"from": version, "to": pending[-1].version, "migrations": [m.description for m in pending]},
            actor="schema",
        )
    return [m.version for m in pending]
