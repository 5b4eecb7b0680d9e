"""`suptech query --format parquet --out` and `suptech export`, on a hand-made published snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.home import Home


@pytest.fixture
def home(tmp_path: Path) -> Home:
    home = Home.resolve(tmp_path / "home").ensure()
    con = duckdb.connect(str(home.published / "suptech.duckdb"))
    con.execute("create schema marts")
    con.execute(
        "create table marts.fct_x as select * from (values ('E1', '2026-09', 1.5), ('E1', '2026-10', 2.0), "
        "('E2', '2026-10', 3.0)) t(enterprise_id, period, value)"
    )
    con.execute("create table marts.dim_y as select * from (values ('E1', 'PAY'), ('E2', 'P2P')) t(id, type)")
    con.close()
    return home


def test_query_writes_parquet_and_csv_files(home: Home, tmp_path: Path) -> None:
    runner = CliRunner()
    sql = "select enterprise_id, value from marts.fct_x where period = '2026-10' order by 1"
    target = tmp_path / "q.parquet"
    result = runner.invoke(
        cli, ["query", "--home", str(home.root), sql, "--format", "parquet", "--out", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(target).rows() == [("E1", 2.0), ("E2", 3.0)]
    csv_file = tmp_path / "q.csv"
    result = runner.invoke(
        cli, ["query", "--home", str(home.root), sql, "--format", "csv", "--out", str(csv_file)]
    )
    assert result.exit_code == 0
    assert csv_file.read_text() == "enterprise_id,value\nE1,2.0\nE2,3.0\n"


def test_query_parquet_without_out_is_a_usage_error(home: Home) -> None:
    result = CliRunner().invoke(cli, ["query", "--home", str(home.root), "select 1", "--format", "parquet"])
    assert result.exit_code == 2
    assert "--out" in result.output


def test_export_filters_tables_with_a_period_and_keeps_dimensions_whole(home: Home, tmp_path: Path) -> None:
    out_dir = tmp_path / "export"
    result = CliRunner().invoke(
        cli,
        [
            "export",
            "--home",
            str(home.root),
            "--period",
            "2026-10",
            "--schema",
            "marts",
            "--out",
            str(out_dir),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    listed = {d["table"]: (d["rows"], d["by_period"]) for d in json.loads(result.output)}
    assert listed == {"fct_x": (2, True), "dim_y": (2, False)}
    assert sorted(p.name for p in out_dir.iterdir()) == ["dim_y.parquet", "fct_x.parquet"]
    assert pl.read_parquet(out_dir / "fct_x.parquet")["period"].to_list() == ["2026-10", "2026-10"]


@pytest.mark.parametrize(("args", "code"), [(["--period", "2026-13"], 2), (["--schema", "nope"], 1)])
def test_export_rejects_bad_period_and_unknown_schema(home: Home, tmp_path: Path, args, code) -> None:
    result = CliRunner().invoke(
        cli, ["export", "--home", str(home.root), "--out", str(tmp_path / "x"), *args]
    )
    assert result.exit_code == code


def test_summary_json_lists_counts_and_report_paths(tmp_path: Path) -> None:
    from tests.unit.test_supervision_report import make_snapshot

    home = Home.resolve(tmp_path / "h").ensure()
    make_snapshot(home.published / "suptech.duckdb")
    runner = CliRunner()
    assert (
        runner.invoke(
            cli, ["report", "supervision", "--home", str(home.root), "--period", "2026-10"]
        ).exit_code
        == 0
    )
    result = runner.invoke(cli, ["summary", "--home", str(home.root), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["submissions_by_status"] == {"ACCEPTED": 2, "REJECTED": 1}
    assert {(a["indicator_id"], a["severity"], a["alerts"]) for a in doc["alerts"]} == {
        ("RES-001", "BREACH", 1),
        ("AML-003", "WARN", 1),
    }
    assert doc["reports"]["supervision"] == {"2026-10": str(home.reports / "supervision" / "2026-10.html")}


def test_query_with_bad_sql_exits_1_and_without_snapshot_fails(tmp_path: Path, home: Home) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["query", "--home", str(home.root), "select * from nowhere"]).exit_code == 1
    empty = Home.resolve(tmp_path / "empty").ensure()
    assert runner.invoke(cli, ["query", "--home", str(empty.root), "select 1"]).exit_code == 1


def test_ask_lists_questions_runs_one_and_rejects_unknown_ids(tmp_path: Path) -> None:
    from tests.unit.test_supervision_report import make_snapshot

    home = Home.resolve(tmp_path / "h").ensure()
    make_snapshot(home.published / "suptech.duckdb")
    runner = CliRunner()
    listing = runner.invoke(cli, ["ask", "--home", str(home.root)])
    assert listing.exit_code == 0 and "alerts_by_enterprise" in listing.output
    result = runner.invoke(
        cli,
        ["ask", "alerts_by_enterprise", "--home", str(home.root), "--period", "2026-10", "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output[result.output.index("[") :])
    assert [(r["enterprise_id"], r["breaches"], r["warnings"]) for r in rows] == [
        ("PAY0001", 1, 0),
        ("PAY0002", 0, 1),
    ]
    assert runner.invoke(cli, ["ask", "nope", "--home", str(home.root), "--period", "2026-10"]).exit_code == 2
    assert runner.invoke(cli, ["ask", "alerts_by_enterprise", "--home", str(home.root)]).exit_code == 2
