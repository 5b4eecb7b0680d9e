"""The open layout (issue 15, item 1): after a cycle on the spec's examples, <home>/lake/raw holds every
loaded submission's raw rows (accepted and rejected versions), row for row, in a 0700 folder; lake/marts
holds the analysts' marts by period with no filed party or account id; a second identical cycle rewrites
nothing; a resubmission adds its own submission_id folders and keeps the superseded ones; a cycle killed
while writing the lake leaves no partial folder and the next one ends where an uninterrupted cycle ends."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines import cycle
from pipelines.calendar import close_at
from pipelines.home import Home
from pipelines.warehouse.lake import PART, lake_dir, partition_value
from pipelines.warehouse.publish import ID_DIMENSIONS, MARTS_SCRUBBED, TOKEN_RE, _id_kind
from tests.reliability.harness import PSEUDONYM_KEY, run_forked, state, warm
from tests.support import copy_example, drop_examples, drop_package

AS_OF = close_at(None, "2026-10")
V1, V2 = "PAY0001-2026-10-v1", "PAY0001-2026-10-v2"


def _files(home: Home) -> dict[str, tuple[str, int]]:
    """Every file of the lake: (sha256, mtime_ns)."""
    root = lake_dir(home)
    return {
        p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _resubmission(tmp: Path) -> Path:
    """v2 of the PAY example, same rows, superseding v1."""
    pkg = copy_example(V1, tmp / "src").rename(tmp / V2)
    manifest = json.loads((pkg / "manifest.json").read_text(encoding="utf-8"))
    manifest.update(submission_id=V2, version=2, supersedes=V1)
    (pkg / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return pkg


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("lake")
    home = Home.resolve(tmp / "home").ensure()
    drop_examples(home.landing)
    out: dict = {"home": home}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SUPTECH_PSEUDONYM_KEY", PSEUDONYM_KEY)
        out["first"] = cycle.run_cycle(home, as_of=AS_OF, backfill=True)
        out["files1"] = _files(home)
        # the same cycle again (no new package: the dbt build would rebuild the same marts; skipped)
        out["second"] = cycle.run_cycle(home, as_of=AS_OF, backfill=True, build_marts=False)
        out["files2"] = _files(home)
        drop_package(_resubmission(tmp), home.landing)
        out["third"] = cycle.run_cycle(home, as_of=AS_OF, backfill=True, build_marts=False)
        out["files3"] = _files(home)
    return out


def _auditor(home: Home) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home.published / "auditor.duckdb"), read_only=True)


def _folder(ft: str, period: str, ent: str, sid: str) -> str:
    return f"raw/filing_type={ft}/period={period}/enterprise_id={ent}/submission_id={sid}"


@pytest.mark.slow
def test_raw_layout_holds_each_loaded_submissions_rows_row_for_row(runs: dict) -> None:
    home: Home = runs["home"]
    con = _auditor(home)
    try:
        wanted = con.execute(
            "select f.filing_type, s.period, s.enterprise_id, s.submission_id from intake.files f "
            "join intake.submissions s using (submission_id) order by all"
        ).fetchall()
        assert {sid for *_, sid in wanted} == {"P2P0001-2026-10-v1", V1, V2}
        folders = {
            p.parent.relative_to(lake_dir(home)).as_posix()
            for p in (lake_dir(home) / "raw").glob("filing_type=*/*/*/*/" + PART)
        }
        assert folders == {_folder(*w) for w in wanted}
        compared = 0
        for ft, period, ent, sid in wanted:
            path = lake_dir(home) / _folder(ft, period, ent, sid) / PART
            table = con.execute(f"select * from raw.{ft} where submission_id = ? order by _row", [sid])
            expected, columns = table.fetchall(), [d[0] for d in table.description]
            got = con.execute(f"select * from read_parquet('{path}', hive_partitioning = false)")
            assert [d[0] for d in got.description] == columns
            assert got.fetchall() == expected  # same values, same types, same order
            compared += len(expected)
        raw = [
            t
            for (t,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'raw'"
            ).fetchall()
        ]
        assert compared == sum(con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in raw) > 0
        # a reader of the whole filing type gets the partition keys from the folders
        rows = con.execute(
            "select period, enterprise_id, submission_id, count(*) from read_parquet("
            f"'{lake_dir(home)}/raw/filing_type=transactions/**/*.parquet', hive_partitioning = true) "
            "group by all order by all"
        ).fetchall()
        assert (
            rows
            == con.execute(
                "select s.period, s.enterprise_id, t.submission_id, count(*) from raw.transactions t "
                "join intake.submissions s using (submission_id) group by all order by all"
            ).fetchall()
        )
    finally:
        con.close()


@pytest.mark.slow
def test_intake_tables_are_exported_alongside(runs: dict) -> None:
    home: Home = runs["home"]
    root = lake_dir(home) / "raw"
    con = _auditor(home)
    try:
        for table in ("intake.submissions", "intake.submission_events"):
            folder = root / table.replace(".", "/")
            assert [p.name for p in folder.iterdir()] == ["period=2026-10"]
            got = con.execute(
                f"select * from read_parquet('{folder}/*/*.parquet', hive_partitioning = false) order by all"
            ).fetchall()
            expected = con.execute(f"select * from {table} order by all").fetchall()
            # JSON columns are written as text: compare as text
            assert [tuple(map(str, r)) for r in got] == [tuple(map(str, r)) for r in expected]
        statuses = con.execute(
            f"select submission_id, status from read_parquet('{root}/intake/submissions/*/*.parquet') order by 1"
        ).fetchall()
        assert statuses == [("P2P0001-2026-10-v1", "ACCEPTED"), (V1, "SUPERSEDED"), (V2, "ACCEPTED")]
    finally:
        con.close()


@pytest.mark.slow
def test_raw_folder_is_private(runs: dict) -> None:
    root = lake_dir(runs["home"])
    assert os.stat(root / "raw").st_mode & 0o777 == 0o700
    assert os.stat(root).st_mode & 0o777 == 0o755
    assert os.stat(root / "marts").st_mode & 0o777 == 0o755
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in (root / "marts").rglob("*.parquet"))
    assert not (root / ".staging").exists()


def _filed_ids(columns: list[str], rows: list[tuple], ids: dict[str, set[str]]) -> int:
    """Rows where an id column, an id dimension's value or a token of the free text is an id the row's
    enterprise filed (any enterprise's, for a row without one)."""
    ent = columns.index("enterprise_id") if "enterprise_id" in columns else None
    every = set().union(*ids.values())
    checked = [i for i, c in enumerate(columns) if _id_kind(c) or c in MARTS_SCRUBBED]
    dim = columns.index("dimension") if "dimension" in columns else None
    value = columns.index("dimension_value") if "dimension_value" in columns else None
    hits = 0
    for row in rows:
        cells = [row[i] for i in checked]
        if dim is not None and value is not None and row[dim] in ID_DIMENSIONS:
            cells.append(row[value])
        tokens = {t for v in cells if v is not None for t in [str(v), *TOKEN_RE.findall(str(v))]}
        hits += bool(tokens & (ids.get(row[ent], set()) if ent is not None else every))
    return hits


@pytest.mark.slow
def test_marts_layout_is_the_pseudonymised_snapshot_by_period_with_no_filed_id(runs: dict) -> None:
    home: Home = runs["home"]
    marts = lake_dir(home) / "marts"
    ana = duckdb.connect(str(home.published / "suptech.duckdb"), read_only=True)
    con = _auditor(home)
    try:
        # every filed party and account id, from the raw layout
        ids: dict[str, set[str]] = {}
        for path in sorted((lake_dir(home) / "raw").glob("filing_type=*/**/" + PART)):
            rel = con.sql(f"select * from read_parquet('{path}', hive_partitioning = false)")
            for col in rel.columns:
                if _id_kind(col):
                    q = f'select distinct enterprise_id, "{col}"::varchar from rel where "{col}" is not null'
                    for ent, value in con.execute(q).fetchall():
                        ids.setdefault(ent, set()).add(value)
        assert sum(map(len, ids.values())) > 5
        tables = [
            r[0]
            for r in ana.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts'"
            ).fetchall()
        ]
        seen_party_rows, leaked, unmasked = 0, 0, 0
        for table in tables:
            n = ana.execute(f"select count(*) from marts.{table}").fetchone()[0]
            folder = marts / table
            if not n:
                assert not folder.exists()
                continue
            files = sorted(folder.rglob("*.parquet"))
            assert files, table
            has_period = "period" in ana.sql(f"select * from marts.{table} limit 0").columns
            if has_period:
                assert all(f.parent.name.startswith("period=") for f in files)
            got = con.execute(
                f"select * from read_parquet({[str(f) for f in files]}, hive_partitioning = false) order by all"
            ).fetchall()
            expected = ana.execute(f"select * from marts.{table} order by all").fetchall()
            assert [tuple(map(str, r)) for r in got] == [tuple(map(str, r)) for r in expected], table
            names = ana.sql(f"select * from marts.{table} limit 0").columns
            leaked += _filed_ids(names, got, ids)
            unpseudonymised = con.execute(f"select * from marts.{table}")
            columns = [d[0] for d in unpseudonymised.description]
            unmasked += _filed_ids(columns, unpseudonymised.fetchall(), ids)
            if "party_id" in ana.sql(f"select * from marts.{table} limit 0").columns:
                seen_party_rows += len(got)
        assert seen_party_rows > 0  # party-level marts were checked, not only aggregates
        assert leaked == 0
        assert unmasked > 0  # the same check finds the ids in the auditors' (unpseudonymised) marts
        assert (marts / "fct_indicator_values" / f"period={partition_value('2026-10')}" / PART).is_file()
    finally:
        ana.close()
        con.close()


@pytest.mark.slow
def test_a_second_identical_cycle_rewrites_nothing(runs: dict) -> None:
    report = runs["second"].lake
    assert report is not None
    assert (report.raw_folders, report.partitions, report.removed) == ([], [], [])
    assert runs["files2"] == runs["files1"]  # same bytes, same mtimes
    first = runs["first"].lake
    assert first is not None and len(first.raw_folders) == 19 and first.partitions


@pytest.mark.slow
def test_a_resubmission_adds_its_folders_and_keeps_the_superseded_ones(runs: dict) -> None:
    before, after = runs["files2"], runs["files3"]
    report = runs["third"].lake
    assert report is not None
    assert report.raw_folders and all(f"submission_id={V2}" in f for f in report.raw_folders)
    old = {k: v for k, v in before.items() if k.startswith("raw/filing_type=")}
    assert old and all(after[k] == v for k, v in old.items())  # never rewritten (bytes and mtime)
    new = {k for k in after if k.startswith("raw/filing_type=") and k not in before}
    assert new == {f"{f}/{PART}" for f in report.raw_folders}
    assert {k.split("submission_id=")[1].split("/")[0] for k in new} == {V2}
    # the intake tables' 2026-10 partition changed (v1 SUPERSEDED); the marts (not rebuilt) did not
    assert "raw/intake/submissions/period=2026-10/part-0.parquet" in report.partitions
    assert not [p for p in report.partitions if p.startswith("marts/")]


@pytest.mark.slow
def test_a_cycle_killed_while_writing_the_lake_recovers_without_partial_folders(tmp_path: Path) -> None:
    homes = {}
    for name in ("baseline", "killed"):
        home = Home.resolve(tmp_path / name).ensure()
        drop_examples(home.landing)
        homes[name] = home
    warm()
    assert run_forked(homes["baseline"], build_marts=False) == 0
    home = homes["killed"]
    assert run_forked(home, build_marts=False, fault_at="lake.write:4") == -9
    written = sorted((lake_dir(home) / "raw").glob("filing_type=*/*/*/submission_id=*"))
    assert len(written) == 3 and all((d / PART).is_file() for d in written)  # complete or absent
    assert (lake_dir(home) / ".staging").exists()  # the fourth, staged, never renamed into place
    assert run_forked(home, build_marts=False) == 0
    assert state(home).diff(state(homes["baseline"])) == []
    assert state(home).lake == state(homes["baseline"]).lake != {}
    shutil.rmtree(tmp_path, ignore_errors=True)
