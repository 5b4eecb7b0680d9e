"""The GX-on-DuckDB fix (pipelines/quality/gx_duckdb.py) and a tripwire for when upstream makes it unneeded."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import great_expectations.expectations as gxe
import pytest

from pipelines.quality import gx_duckdb

ROOT = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent(
    """
    import os, sys
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import duckdb, great_expectations as gx
    import great_expectations.expectations as gxe
    path = sys.argv[1]
    con = duckdb.connect(path)
    con.execute("create table t as select range as v from range(5)")
    con.close()
    context = gx.get_context(mode="ephemeral")
    ds = context.data_sources.add_sql("w", connection_string="duckdb:///" + path)
    batch = ds.add_table_asset("t", table_name="t").add_batch_definition_whole_table("all").get_batch()
    r = batch.validate(gxe.ExpectColumnValuesToNotBeNull(column="v"))
    print("RESULT", r.success, r.exception_info)
    """
)


def test_upstream_still_lacks_duckdb_in_persisted_dialects():
    # When this fails, GX keeps a persisted connection for duckdb itself: delete
    # ensure_persisted_connection() (and this test) from pipelines/quality/gx_duckdb.py.
    assert not gx_duckdb.upstream_persists_duckdb(), "GX now persists duckdb connections: drop the patch"


def test_unpatched_gx_still_fails_on_duckdb(tmp_path):
    """Plain GX (a fresh process, no patch) cannot evaluate a row-reading expectation on DuckDB.

    When this starts to pass, upstream fixed the connection handling: remove the patch."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "probe.duckdb")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "GX_ANALYTICS_ENABLED": "false"},
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT"))
    assert line.startswith("RESULT False"), line
    assert "list index out of range" in line


def test_patch_is_idempotent_and_marks_duckdb():
    from great_expectations.execution_engine import sqlalchemy_execution_engine as sae

    gx_duckdb.ensure_persisted_connection()
    gx_duckdb.ensure_persisted_connection()
    names = [str(getattr(d, "value", d)) for d in sae._PERSISTED_CONNECTION_DIALECTS]
    assert names.count("duckdb") == 1
    assert sae._dialect_requires_persisted_connection(connection_string="duckdb:////x.duckdb")


def test_gx_runs_on_the_callers_open_file_connection(tmp_path):
    """GX validates through cursors of the caller's read-write connection to a database FILE."""
    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    con.execute(
        "create schema raw; create table raw.t as select range as v, "
        "case when range = 3 then null else 'x' end as s from range(10)"
    )
    context = gx_duckdb.ephemeral_context()
    with gx_duckdb.duckdb_datasource(context, con, db) as ds:
        batch = (
            ds.add_query_asset("t", query="select * from raw.t")
            .add_batch_definition_whole_table("a")
            .get_batch()
        )
        r = batch.validate(gxe.ExpectColumnValuesToNotBeNull(column="s"), result_format="BASIC")
        assert r.success is False and r.result["unexpected_count"] == 1
        ok = batch.validate(gxe.ExpectColumnValuesToBeBetween(column="v", min_value=0, max_value=9))
        assert ok.success is True
    # the caller keeps writing on its connection, and closing it releases the file
    con.execute("insert into raw.t values (10, 'y')")
    con.close()
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import duckdb; print(duckdb.connect({str(db)!r}).sql('select count(*) from raw.t').fetchall())",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "[(11,)]" in probe.stdout, probe.stderr[-500:]


def test_datasource_refuses_another_file(tmp_path):
    con = duckdb.connect(str(tmp_path / "a.duckdb"))
    with pytest.raises(ValueError, match="not to db_path"):
        with gx_duckdb.duckdb_datasource(gx_duckdb.ephemeral_context(), con, tmp_path / "b.duckdb"):
            pass
    con.close()


def test_unexpected_index_query_on_a_query_asset_runs_once_parenthesised(tmp_path):
    """GX's own unexpected_index_query (what the validity stage fetches failing rows with) pastes the query
    asset after FROM without parentheses; runnable_index_query fixes exactly that. When GX's text runs as
    it is, upstream fixed it: drop runnable_index_query()."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute(
        "create schema raw; create table raw.t as select 'S' as submission_id, range + 1 as _row, "
        "case when range % 3 = 0 then null else range end as v, "
        "case when range % 4 = 0 then 'bad' else 'ok' end as s from range(10)"
    )
    asset_query = "select * from raw.t where submission_id in ('S')"
    fmt = {
        "result_format": "BASIC",
        "partial_unexpected_count": 0,
        "unexpected_index_column_names": ["submission_id", "_row"],
        "return_unexpected_index_query": True,
    }
    checks = [
        (gxe.ExpectColumnValuesToNotBeNull(column="v"), [1, 4, 7, 10]),
        (gxe.ExpectColumnValuesToBeInSet(column="s", value_set=["ok"]), [1, 5, 9]),
        (gxe.ExpectColumnValuesToBeBetween(column="v", min_value=2, max_value=7, strict_max=True), [2, 8, 9]),
    ]
    with gx_duckdb.duckdb_datasource(gx_duckdb.ephemeral_context(), con) as ds:
        batch = ds.add_query_asset("t", query=asset_query).add_batch_definition_whole_table("a").get_batch()
        for expectation, rows in checks:
            result = batch.validate(expectation, result_format=fmt).result
            query = result["unexpected_index_query"]
            with pytest.raises(duckdb.Error):
                con.sql(query).fetchall()
            runnable = gx_duckdb.runnable_index_query(query, asset_query)
            got = sorted(r[1] for r in con.sql(runnable).fetchall())
            assert got == rows and result["unexpected_count"] == len(rows), (expectation, got)
    con.close()
