"""Publishing the auditors' snapshot by what changed (pipelines/warehouse/auditor_slots.py): after every
publication the file readers open holds exactly the live warehouse's tables and views; a slot is brought up
to date in place (the same file) when it can be, and made new by a whole copy when a reader still holds it,
when the warehouse does not descend from it (a restore) or when a publication was killed inside it.

The live warehouse here is made by hand, small and fast: raw rows tagged by submission, one table of an
incremental model with its build record (dbt_state, as macros/incremental.sql writes it), a rebuilt mart,
a view, the intake's audit log."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.home import Home
from pipelines.intake import audit
from pipelines.warehouse import auditor_slots
from pipelines.warehouse.db import connect_reader, connect_writer, snapshot_path
from pipelines.warehouse.publish import publish
from tests.support import file_fingerprints

AT = datetime(2026, 12, 1, tzinfo=UTC)
SCHEMAS = ["raw", "intake", "quality", "meta", "intermediate", "marts", "dbt_state", "staging"]


@pytest.fixture
def home(tmp_path: Path) -> Home:
    home = Home.resolve(tmp_path / "home").ensure()
    with connect_writer(home) as con:
        con.execute(
            """create table raw.demo (submission_id varchar not null, _row bigint not null, amount decimal(18, 2));
            insert into raw.demo select 'S1', range, range * 1.5 from range(1000);
            create schema intermediate; create schema marts; create schema dbt_state; create schema staging;
            create table intermediate.legs as
                select e as enterprise_id, p as period, range as leg, e || p as tag
                from (values ('E1'), ('E2')) es(e), (values ('2026-07'), ('2026-08')) ps(p), range(50);
            create table dbt_state.incremental_models as select 'intermediate' as schema_name, 'legs' as table_name;
            create table dbt_state.rebuilt_partitions as
                select 1::bigint as build_seq, null::varchar as enterprise_id, null::varchar as period;
            create table marts.totals as select enterprise_id, count(*) as n from intermediate.legs group by 1;
            create view staging.v_demo as select submission_id, amount from raw.demo;"""
        )
    _audit(home, "loaded")
    return home


def _audit(home: Home, action: str) -> None:
    with connect_writer(home) as con:
        audit.append(con, action, None, AT, {})
        con.execute("checkpoint")


def _change(home: Home, sql: str) -> None:
    with connect_writer(home) as con:
        con.execute(sql)
        con.execute("checkpoint")
    _audit(home, "changed")


def _differences(home: Home) -> list[str]:
    live = file_fingerprints(home.warehouse, SCHEMAS)
    published = file_fingerprints(snapshot_path(home, "auditor"), SCHEMAS)
    published.pop("meta.publication")
    return sorted(t for t in set(live) | set(published) if live.get(t) != published.get(t))


def _slot(home: Home) -> tuple[str, int]:
    target = snapshot_path(home, "auditor").resolve()
    return target.name, target.stat().st_ino


def _publish(home: Home) -> tuple[str, int]:
    publish(home, AT)
    assert _differences(home) == []
    return _slot(home)


def test_slots_alternate_and_follow_the_changes_in_place(home: Home) -> None:
    a1 = _publish(home)
    b1 = _publish(home)
    assert (a1[0], b1[0]) == ("auditor-a.duckdb", "auditor-b.duckdb")
    assert snapshot_path(home, "auditor").is_symlink()

    # a new submission's raw rows, one partition rebuilt by an incremental build, a mart rebuilt whole, a
    # new view, a table gone
    _change(
        home,
        """insert into raw.demo select 'S2', range, -range from range(10);
        delete from intermediate.legs where enterprise_id = 'E1' and period = '2026-08';
        insert into intermediate.legs select 'E1', '2026-08', range, 'rebuilt' from range(70);
        insert into dbt_state.rebuilt_partitions values (2, 'E1', '2026-08');
        create or replace table marts.totals as select enterprise_id, count(*) as n from intermediate.legs group by 1;
        create view staging.v_legs as select * from intermediate.legs;
        create table marts.gone as select 1 as x;""",
    )
    assert _publish(home) == a1  # slot a, in place: two publications' changes at once (marts.gone came)
    _change(home, "drop table marts.gone; drop view staging.v_demo")
    assert _publish(home) == b1

    # a build that stopped part-way: a partition changed that no complete build recorded yet (the views of
    # what the next build rebuilds list it)
    _change(
        home,
        """update intermediate.legs set tag = 'half-built' where enterprise_id = 'E2' and period = '2026-07';
        create view staging.int_partitions_to_rebuild as select 'E2' as enterprise_id, '2026-07' as period;""",
    )
    assert _publish(home) == a1

    # a full refresh (a row of nulls in the build record): every partition of the incremental models
    _change(
        home,
        """update intermediate.legs set tag = upper(tag);
        drop view staging.int_partitions_to_rebuild;
        insert into dbt_state.rebuilt_partitions values (3, null, null);""",
    )
    assert _publish(home) == b1


def _hold(path: str, opened, release, results) -> None:
    con = duckdb.connect(path, read_only=True)
    before = con.execute("select count(*) from raw.demo").fetchone()
    opened.set()
    release.wait(60)
    results.put((before, con.execute("select count(*) from raw.demo").fetchone()))
    con.close()


@pytest.fixture
def reader_of_slot_a(home: Home) -> Iterator[tuple]:
    publish(home, AT)  # slot a
    publish(home, AT)  # slot b
    ctx = mp.get_context("spawn")
    opened, release, results = ctx.Event(), ctx.Event(), ctx.Queue()
    slot_a = str(home.published / "slots/auditor-a.duckdb")
    proc = ctx.Process(target=_hold, args=(slot_a, opened, release, results))
    proc.start()
    try:
        assert opened.wait(60)
        yield release, results
    finally:
        release.set()
        proc.join(30)


def test_a_slot_a_reader_still_holds_is_made_new_and_the_reader_keeps_its_version(
    home: Home, reader_of_slot_a: tuple
) -> None:
    release, results = reader_of_slot_a
    old_inode = (home.published / "slots/auditor-a.duckdb").stat().st_ino
    _change(home, "insert into raw.demo select 'S3', range, 1 from range(5)")
    name, inode = _publish(home)
    assert name == "auditor-a.duckdb" and inode != old_inode  # a whole copy, renamed over the slot
    release.set()
    assert results.get(timeout=60) == ((1000,), (1000,))  # the old version, whole, to the end
    reader = connect_reader(home, "auditor")
    try:
        assert reader.execute("select count(*) from raw.demo").fetchone() == (1005,)
    finally:
        reader.close()


def test_a_warehouse_that_does_not_descend_from_the_slot_gets_a_whole_copy(home: Home) -> None:
    a1 = _publish(home)
    _publish(home)
    # a restore from an older backup, then other work: the audit log's entry at the slot's head differs
    with connect_writer(home) as con:
        (head,) = con.execute("select max(seq) from intake.audit_log").fetchone()
        con.execute("delete from intake.audit_log where seq >= ?", [head - 2])
        con.execute("insert into raw.demo select 'S9', range, 9 from range(3)")
        con.execute("checkpoint")
    _audit(home, "after-restore")
    _audit(home, "after-restore")
    _audit(home, "after-restore")
    name, inode = _publish(home)
    assert name == a1[0] and inode != a1[1]


def test_a_publication_killed_inside_a_slot_leaves_it_and_the_pointer_as_they_were(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    a1 = _publish(home)
    b1 = _publish(home)
    slot_a = home.published / "slots/auditor-a.duckdb"
    before = file_fingerprints(slot_a, SCHEMAS)
    _change(
        home, "insert into raw.demo select 'S4', range, 4 from range(7); update marts.totals set n = n + 1"
    )
    applied = auditor_slots._Sync.apply

    def crash(self: auditor_slots._Sync) -> None:
        applied(self)
        raise KeyboardInterrupt("killed after the changes, before the commit")

    monkeypatch.setattr(auditor_slots._Sync, "apply", crash)
    with pytest.raises(KeyboardInterrupt):
        publish(home, AT)
    monkeypatch.undo()
    assert _slot(home) == b1  # the pointer did not move
    assert file_fingerprints(slot_a, SCHEMAS) == before
    assert _publish(home) == a1  # and the next publication brings it up to date in place


def test_an_in_place_update_that_fails_falls_back_to_a_whole_copy(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    a1 = _publish(home)
    _publish(home)
    _change(home, "insert into raw.demo select 'S5', range, 5 from range(2)")

    def broken(self: auditor_slots._Sync) -> None:
        raise duckdb.CatalogException("a bug in the in-place path")

    monkeypatch.setattr(auditor_slots._Sync, "apply", broken)
    name, inode = _publish(home)  # the publication goes on, and holds the warehouse's content
    assert name == a1[0] and inode != a1[1]
