"""`suptech filings --period`: the expected-vs-received matrix read from the published snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.home import Home
from pipelines.warehouse.db import snapshot_path

ROWS = [
    # enterprise, type, period, status, days_late, versions, current
    ("PAY0001", "PAY", "2026-10", "on_time", 0, 1, "PAY0001-2026-10-v1"),
    ("PAY0002", "PAY", "2026-10", "late", 1, 2, "PAY0002-2026-10-v2"),
    ("P2P0003", "P2P", "2026-10", "late", 12, 1, "P2P0003-2026-10-v1"),
    ("CF0004", "CF", "2026-10", "missing", 35, 1, None),
    ("PAY0001", "PAY", "2026-11", "pending", 3, 0, None),
]


def _home(tmp_path: Path) -> Home:
    home = Home.resolve(tmp_path / "home").ensure()
    home.published.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(snapshot_path(home)))
    con.execute("create schema marts")
    con.execute(
        "create table marts.fct_filing_timeliness (enterprise_id varchar, ent_type varchar, period varchar, "
        "timeliness_status varchar, days_late integer, versions_received bigint, current_submission_id varchar, "
        "due_at timestamptz)"
    )
    con.executemany(
        "insert into marts.fct_filing_timeliness values (?, ?, ?, ?, ?, ?, ?, '2026-11-10 15:59:59+00')", ROWS
    )
    con.close()
    return home


def test_matrix_for_a_period(tmp_path: Path) -> None:
    home = _home(tmp_path)
    res = CliRunner().invoke(cli, ["filings", "--home", str(home.root), "--period", "2026-10", "--json"])
    assert res.exit_code == 0, res.output
    body = json.loads(res.output)
    assert body["counts"] == {"on_time": 1, "late": 2, "missing": 1}
    assert [(e["enterprise_id"], e["text"]) for e in body["enterprises"]] == [
        ("CF0004", "missing"),
        ("P2P0003", "late 12 days"),
        ("PAY0001", "on time"),
        ("PAY0002", "late 1 day"),
    ]
    res = CliRunner().invoke(cli, ["filings", "--home", str(home.root), "--period", "2026-11"])
    assert res.exit_code == 0 and "pending (3 days past due)" in res.output


def test_no_snapshot_is_a_clear_error(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["filings", "--home", str(tmp_path / "none"), "--period", "2026-10"])
    assert res.exit_code == 1 and "no published snapshot" in res.output
