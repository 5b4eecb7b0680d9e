"""Versioned schema migrations: a warehouse from before versioning is upgraded in place (one transaction,
an anchored audit entry); a warehouse newer than the code is refused untouched."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
import pytest

from pipelines.home import Home
from pipelines.intake import audit
from pipelines.intake.service import take_in
from pipelines.warehouse import migrations
from pipelines.warehouse.db import connect_writer, writer_lock
from pipelines.warehouse.migrations import Migration, SchemaVersionError
from tests.support import drop_examples

CLOCK = datetime(2026, 11, 21, tzinfo=UTC)


@pytest.fixture
def home(tmp_path) -> Home:
    home = Home.resolve(tmp_path / "home").ensure()
    drop_examples(home.landing)
    with writer_lock(home), connect_writer(home) as con:
        take_in(con, home, clock=CLOCK, backfill=True)
    return home


def _as_version_0(home: Home) -> None:
    """The schema as it landed before versioning: no meta.schema_version, absolute archive paths."""
    con = duckdb.connect(str(home.warehouse))
    try:
        con.execute("drop schema meta cascade")
        for table in ("intake.submissions", "intake.deliveries"):
            con.execute(f"update {table} set archive_path = ? || '/' || archive_path", [str(home.root)])
    finally:
        con.close()


def _read(home: Home, sql: str) -> list[tuple]:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_new_warehouse_is_at_the_latest_version_without_an_audit_entry(home: Home) -> None:
    assert _read(home, "select version, description from meta.schema_version") == [
        (migrations.latest(), f"created at version {migrations.latest()}")
    ]
    assert _read(home, "select count(*) from intake.audit_log where action = 'schema_migrated'") == [(0,)]


def test_a_version_0_warehouse_is_upgraded_in_place_with_an_anchored_audit_entry(home: Home) -> None:
    _as_version_0(home)
    before = _read(home, "select count(*) from intake.audit_log")[0][0]
    with writer_lock(home), connect_writer(home) as con:
        assert migrations.current_version(con) == migrations.latest()
        head = audit.head(con)
        result = audit.verify_home(home.root, con)
    assert _read(home, "select version from meta.schema_version order by 1") == [(1,), (2,)]
    paths = _read(
        home,
        "select archive_path from intake.deliveries union all select archive_path from intake.submissions",
    )
    assert paths and all(p.startswith("archive/") and (home.root / p).is_dir() for (p,) in paths)
    seq, action, actor, detail = _read(
        home, "select seq, action, actor, detail from intake.audit_log order by seq desc limit 1"
    )[0]
    assert (seq, action, actor) == (before + 1, "schema_migrated", "schema")
    assert json.loads(detail)["from"] == 0 and json.loads(detail)["to"] == migrations.latest() == 2
    last = audit.read_anchors(audit.anchor_file(home.root))[0][-1]
    assert (last.seq, last.hash) == head and head[0] == seq
    assert result.intact and result.notes == ()
    with writer_lock(home), connect_writer(home):  # nothing left to do: no second entry
        pass
    assert _read(home, "select count(*) from intake.audit_log")[0][0] == before + 1


def test_migrations_apply_in_order_and_a_failing_one_changes_nothing(home: Home, monkeypatch) -> None:
    def add_column(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("alter table intake.files add column media_type varchar")

    def broken(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("create table intake.half_done (x int)")
        raise RuntimeError("migration 4 failed")

    _as_version_0(home)
    before = _read(home, "select count(*) from intake.audit_log")[0][0]
    monkeypatch.setattr(
        migrations,
        "MIGRATIONS",
        [*migrations.MIGRATIONS, Migration(3, "media types", add_column), Migration(4, "broken", broken)],
    )
    with pytest.raises(RuntimeError, match="migration 4 failed"), writer_lock(home), connect_writer(home):
        pass
    assert _read(home, "select count(*) from information_schema.tables where table_schema = 'meta'") == [(0,)]
    assert _read(home, "select count(*) from intake.audit_log")[0][0] == before
    assert _read(
        home, "select count(*) from information_schema.columns where column_name = 'media_type'"
    ) == [(0,)]
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:3])
    with writer_lock(home), connect_writer(home):
        pass
    assert [v for (v,) in _read(home, "select version from meta.schema_version order by 1")] == [1, 2, 3]
    assert _read(
        home, "select count(*) from information_schema.columns where column_name = 'media_type'"
    ) == [(1,)]
    detail = json.loads(_read(home, "select detail from intake.audit_log order by seq desc limit 1")[0][0])
    assert (detail["from"], detail["to"]) == (0, 3)


def test_a_newer_warehouse_is_refused_untouched(home: Home) -> None:
    con = duckdb.connect(str(home.warehouse))
    try:
        con.execute(
            "insert into meta.schema_version values (?, now(), 'from the future')", [migrations.latest() + 1]
        )
    finally:
        con.close()
    before = _read(home, "select count(*) from intake.audit_log")
    with (
        pytest.raises(SchemaVersionError, match="Upgrade the project"),
        writer_lock(home),
        connect_writer(home),
    ):
        pass
    assert _read(home, "select count(*) from intake.audit_log") == before
