"""The lake's period partitions on hand-made snapshots (no cycle): only the periods whose values changed are
rewritten (a new clock alone rewrites nothing), a period that is gone is removed, a null period is Hive's
default partition, and partition values cannot escape their folder."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.home import Home
from pipelines.warehouse.lake import NULL_PARTITION, PART, lake_dir, partition_value, write_lake

INTAKE = """
create schema intake; create schema quality; create schema raw;
create table intake.submissions (submission_id varchar, enterprise_id varchar, period varchar, status varchar,
    manifest json);
create table intake.files (submission_id varchar, filing_type varchar);
create table intake.submission_events (event_id bigint, submission_id varchar, status varchar);
create table quality.findings (finding_id bigint, submission_id varchar, message varchar);
create table quality.rule_results (submission_id varchar, rule_id varchar, status varchar);
insert into quality.rule_results values ('PAY0001-2026-10-v1', 'V001', 'FAIL');
create table raw.parties (submission_id varchar, _row bigint, enterprise_id varchar, party_id varchar);
insert into intake.submissions values
    ('PAY0001-2026-09-v1', 'PAY0001', '2026-09', 'ACCEPTED', '{"a": 1}'),
    ('PAY0001-2026-10-v1', 'PAY0001', '2026-10', 'REJECTED', null);
insert into intake.files values ('PAY0001-2026-09-v1', 'parties'), ('PAY0001-2026-10-v1', 'parties');
insert into intake.submission_events values (1, 'PAY0001-2026-09-v1', 'ACCEPTED'),
    (2, 'PAY0001-2026-10-v1', 'REJECTED');
insert into quality.findings values (1, 'PAY0001-2026-10-v1', 'bad');
insert into raw.parties values ('PAY0001-2026-09-v1', 2, 'PAY0001', 'P2'), ('PAY0001-2026-09-v1', 1, 'PAY0001', 'P1'),
    ('PAY0001-2026-10-v1', 1, 'PAY0001', 'P9');
"""
MARTS = """
create schema marts;
create table marts.fct_x (enterprise_id varchar, period varchar, value double, n hugeint, computed_at timestamptz);
insert into marts.fct_x values ('PAY0001', '2026-09', 1.5, 3, '2026-11-01'), ('PAY0001', '2026-10', 2.5, 4, '2026-11-01'),
    ('PAY0001', null, 0.0, 0, '2026-11-01');
create table marts.dim_y (enterprise_id varchar, name varchar);
insert into marts.dim_y values ('PAY0001', 'Example');
"""


def _home(tmp_path: Path) -> Home:
    home = Home.resolve(tmp_path / "home").ensure()
    for name, sql in (("auditor.duckdb", INTAKE), ("suptech.duckdb", MARTS)):
        con = duckdb.connect(str(home.published / name))
        con.execute(sql)
        con.close()
    return home


def _sql(home: Home, name: str, sql: str) -> None:
    con = duckdb.connect(str(home.published / name))
    try:
        con.execute(sql)
    finally:
        con.close()


def _mtimes(home: Home) -> dict[str, int]:
    root = lake_dir(home)
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*.parquet")}


def test_only_changed_periods_are_rewritten_and_gone_ones_removed(tmp_path: Path) -> None:
    home = _home(tmp_path)
    first = write_lake(home)
    assert first.raw_folders == [
        "raw/filing_type=parties/period=2026-09/enterprise_id=PAY0001/submission_id=PAY0001-2026-09-v1",
        "raw/filing_type=parties/period=2026-10/enterprise_id=PAY0001/submission_id=PAY0001-2026-10-v1",
    ]  # the rejected version's loaded rows too: the data-quality indicators read every version
    assert sorted(first.partitions) == [
        "marts/dim_y/part-0.parquet",
        "marts/fct_x/period=2026-09/part-0.parquet",
        "marts/fct_x/period=2026-10/part-0.parquet",
        f"marts/fct_x/period={NULL_PARTITION}/part-0.parquet",
        "raw/intake/files/period=2026-09/part-0.parquet",
        "raw/intake/files/period=2026-10/part-0.parquet",
        "raw/intake/submission_events/period=2026-09/part-0.parquet",
        "raw/intake/submission_events/period=2026-10/part-0.parquet",
        "raw/intake/submissions/period=2026-09/part-0.parquet",
        "raw/intake/submissions/period=2026-10/part-0.parquet",
        "raw/quality/findings/period=2026-10/part-0.parquet",
        "raw/quality/rule_results/period=2026-10/part-0.parquet",
    ]
    con = duckdb.connect()
    root = lake_dir(home)
    raw = root / first.raw_folders[0] / PART
    assert con.execute(f"select * from read_parquet('{raw}', hive_partitioning = false)").fetchall() == [
        ("PAY0001-2026-09-v1", 1, "PAY0001", "P1"),
        ("PAY0001-2026-09-v1", 2, "PAY0001", "P2"),
    ]  # in delivered order
    x = root / "marts/fct_x/period=2026-09" / PART
    assert con.execute(f"select typeof(n), value from read_parquet('{x}')").fetchall() == [("BIGINT", 1.5)]
    subs = root / "raw/intake/submissions/period=2026-09" / PART
    assert con.execute(f"select typeof(manifest), manifest from read_parquet('{subs}')").fetchall() == [
        ("VARCHAR", '{"a": 1}')
    ]
    before = _mtimes(home)

    # a later clock alone: nothing written
    _sql(home, "suptech.duckdb", "update marts.fct_x set computed_at = '2026-12-01'")
    again = write_lake(home)
    assert (again.raw_folders, again.partitions, again.removed) == ([], [], [])
    assert _mtimes(home) == before

    # one period's value changes, the null period is gone: only those two partitions move
    _sql(home, "suptech.duckdb", "update marts.fct_x set value = 9 where period = '2026-10'")
    _sql(home, "suptech.duckdb", "delete from marts.fct_x where period is null")
    third = write_lake(home)
    assert third.partitions == ["marts/fct_x/period=2026-10/part-0.parquet"]
    assert third.removed == [f"marts/fct_x/period={NULL_PARTITION}/part-0.parquet"]
    after = _mtimes(home)
    assert {k for k in after if after[k] != before.get(k)} == {"marts/fct_x/period=2026-10/part-0.parquet"}
    assert not (root / f"marts/fct_x/period={NULL_PARTITION}").exists()
    changed = root / "marts/fct_x/period=2026-10" / PART
    assert con.execute(f"select value, computed_at::varchar from read_parquet('{changed}')").fetchall() == [
        (9.0, "2026-12-01 00:00:00+00")
    ]

    # a mart that is dropped leaves the layout
    _sql(home, "suptech.duckdb", "drop table marts.dim_y")
    assert write_lake(home).removed == ["marts/dim_y/part-0.parquet"]
    assert not (root / "marts/dim_y").exists()


def test_partition_values_stay_inside_their_folder() -> None:
    assert partition_value("PAY0001-2026-10-v1") == "PAY0001-2026-10-v1"
    assert partition_value(None) == NULL_PARTITION
    assert partition_value("..") == "%2E%2E"
    assert partition_value("a/b=c") == "a%2Fb%3Dc"
    assert partition_value(".hidden") == "%2Ehidden"
