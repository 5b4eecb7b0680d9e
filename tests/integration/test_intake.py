"""Intake: syntax stage, typed load, identity, re-drops and archiving, on the spec's example packages."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.home import Home
from pipelines.intake.service import take_in
from pipelines.warehouse.db import connect_writer, writer_lock
from tests.support import copy_example, drop_examples, drop_package, refresh_manifest

CLOCK = datetime(2026, 11, 21, tzinfo=UTC)
PAY = "PAY0001-2026-10-v1"


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home.resolve(tmp_path / "home").ensure()


def run_intake(home: Home, clock: datetime = CLOCK, backfill: bool = True):
    with writer_lock(home), connect_writer(home) as con:
        outcomes = take_in(con, home, clock=clock, backfill=backfill)
    return {o.submission_id: o for o in outcomes}


def query(home: Home, sql: str, params=None):
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def findings(home: Home, sid: str) -> list[tuple]:
    return query(
        home,
        "select rule_id, filing_type, row_number, message from quality.findings "
        "where submission_id = ? order by finding_id",
        [sid],
    )


def test_examples_load_completely_with_types(home: Home) -> None:
    drop_examples(home.landing)
    out = run_intake(home)
    assert {k: v.status for k, v in out.items()} == {PAY: "RECEIVED", "P2P0001-2026-10-v1": "RECEIVED"}
    counts = dict(query(home, "select submission_id, count(*) from raw.transactions group by 1"))
    assert counts == {PAY: 9, "P2P0001-2026-10-v1": 14}
    assert query(home, "select sum(amount_cny) from raw.transactions where submission_id = ?", [PAY]) == [
        (pytest.approx(9524),)
    ]
    assert query(
        home, "select sum(closing), count(*) from raw.account_balances where submission_id = ?", [PAY]
    )[0] == (pytest.approx(391988), 96)
    # timestamps are stored in UTC: 11:02 Shanghai is 03:02 UTC
    (received,) = query(home, "select received_at from raw.complaints where complaint_id = 'C1'")[0]
    assert received == datetime(2026, 10, 8, 3, 2, tzinfo=UTC)
    assert query(home, "select received_at from intake.submissions where submission_id = ?", [PAY])[0][
        0
    ] == datetime(2026, 11, 6, 7, 20, tzinfo=UTC)  # backfill: the manifest's mtime
    assert findings(home, PAY) == []
    # nothing is left in landing; delivered bytes are archived unchanged
    assert not any(home.landing.glob("*/*"))
    archived = home.archive / "PAY0001" / PAY / "1" / "transactions.csv"
    assert (
        hashlib.sha256(archived.read_bytes()).hexdigest()
        == json.loads((archived.parent / "manifest.json").read_text())["files"][4]["sha256"]
    )


def _malformed(home: Home, folder: Path) -> list[tuple]:
    drop_package(folder, home.landing)
    out = run_intake(home)
    sid = folder.name
    assert out[sid].status == "MALFORMED", out[sid]
    assert query(home, "select count(*) from raw.transactions where submission_id = ?", [sid]) == [(0,)]
    assert (home.archive / folder.name.split("-")[0] / sid / "1" / "manifest.json").exists()
    return findings(home, sid)


def test_checksum_mismatch_is_malformed_and_bytes_kept(home: Home, tmp_path: Path) -> None:
    pkg = copy_example(PAY, tmp_path)
    with open(pkg / "complaints.csv", "a", encoding="utf-8") as fh:
        fh.write("")
    (pkg / "parties.csv").write_bytes((pkg / "parties.csv").read_bytes().replace(b"310115", b"310116"))
    delivered = (pkg / "parties.csv").read_bytes()
    rules = [f[0] for f in _malformed(home, pkg)]
    assert rules == ["S009"]
    assert (home.archive / "PAY0001" / PAY / "1" / "parties.csv").read_bytes() == delivered
    reason = query(home, "select status_reason from intake.submissions where submission_id = ?", [PAY])[0][0]
    assert reason.startswith("S009 parties: parties.csv: SHA-256")


def test_row_count_and_control_total_mismatch(home: Home, tmp_path: Path) -> None:
    pkg = copy_example(PAY, tmp_path)
    m = json.loads((pkg / "manifest.json").read_text())
    m["files"][4]["row_count"] = 10
    m["files"][3]["control_totals"]["closing"] = "391989.00"
    (pkg / "manifest.json").write_text(json.dumps(m))
    got = _malformed(home, pkg)
    assert [(r, ft) for r, ft, _, _ in got] == [("S011", "account_balances"), ("S010", "transactions")]
    assert "sums to 391988.00" in got[0][3]


def test_bad_types_are_reported_with_row_and_field(home: Home, tmp_path: Path) -> None:
    pkg = copy_example(PAY, tmp_path)
    tx = (pkg / "transactions.csv").read_text().replace("2026-10-03,W-P1", "03/10/2026,W-P1")
    tx = tx.replace(",1200.00,CNY,1200.00,", ',"1,200.00",CNY,1200.00,')
    (pkg / "transactions.csv").write_text(tx)
    refresh_manifest(pkg)
    got = _malformed(home, pkg)
    assert sorted((r, row) for r, _, row, _ in got) == [("S015", 4), ("S015", 4)]
    assert any("value_date = '03/10/2026' is not a valid date" in m for *_, m in got)
    assert any("amount = '1,200.00' is not a valid money" in m for *_, m in got)


def test_missing_column_and_missing_file_and_unlisted_file(home: Home, tmp_path: Path) -> None:
    pkg = copy_example(PAY, tmp_path)
    lines = (pkg / "complaints.csv").read_text().splitlines()
    (pkg / "complaints.csv").write_text("\n".join(",".join(line.split(",")[:-1]) for line in lines) + "\n")
    (pkg / "incidents.csv").unlink()
    (pkg / "notes.txt").write_text("hello")
    refresh_manifest(pkg)
    got = {r: m for r, _, _, m in _malformed(home, pkg)}
    assert set(got) == {"S014", "S007", "S008"}
    assert "missing column(s) escalated" in got["S014"]
    assert "notes.txt" in got["S008"]


def test_path_escaping_the_package_and_symlink(home: Home, tmp_path: Path) -> None:
    pkg = copy_example(PAY, tmp_path)
    m = json.loads((pkg / "manifest.json").read_text())
    m["files"][0]["path"] = "../enterprise_profile.csv"
    m["files"][1]["path"] = "/etc/passwd"
    (pkg / "manifest.json").write_text(json.dumps(m))
    got = _malformed(home, pkg)
    assert [r for r, *_ in got].count("S007") == 2


def test_undeclared_gbk_is_an_encoding_finding_and_declared_gbk_loads(home: Home, tmp_path: Path) -> None:
    bad = copy_example(PAY, tmp_path / "bad")
    profile = (bad / "enterprise_profile.csv").read_text(encoding="utf-8")
    (bad / "enterprise_profile.csv").write_bytes(profile.encode("gbk"))
    refresh_manifest(bad)
    got = _malformed(home, bad)
    assert [r for r, *_ in got] == ["S013"]
    assert "declare that encoding" in got[0][3]

    good = copy_example("P2P0001-2026-10-v1", tmp_path / "good")
    profile = (good / "enterprise_profile.csv").read_text(encoding="utf-8")
    (good / "enterprise_profile.csv").write_bytes(profile.encode("gb18030"))
    m = json.loads((good / "manifest.json").read_text())
    m["files"][0]["encoding"] = "gb18030"
    (good / "manifest.json").write_text(json.dumps(m))
    refresh_manifest(good)
    drop_package(good, home.landing)
    assert run_intake(home)["P2P0001-2026-10-v1"].status == "RECEIVED"
    assert query(home, "select name from raw.enterprise_profile where enterprise_id = 'P2P0001'") == [
        ("示例网络借贷信息中介有限公司",)
    ]


def test_gzip_jsonl_and_parquet_load_the_same_rows(home: Home, tmp_path: Path) -> None:
    pkg = copy_example(PAY, tmp_path)
    con = duckdb.connect()
    src = pkg / "transactions.csv"
    (pkg / "transactions.csv.gz").write_bytes(gzip.compress(src.read_bytes()))
    src.unlink()
    con.execute(
        f"copy (select * from read_csv('{pkg / 'account_balances.csv'}', all_varchar=true)) "
        f"to '{pkg / 'account_balances.jsonl'}' (format json)"
    )
    con.execute(f"""copy (select * replace (cast(as_of_date as date) as as_of_date,
                     cast(hqla as decimal(20,2)) as hqla)
                     from read_csv('{pkg / "liquidity.csv"}', all_varchar=true))
                     to '{pkg / "liquidity.parquet"}' (format parquet)""")
    (pkg / "account_balances.csv").unlink()
    (pkg / "liquidity.csv").unlink()
    m = json.loads((pkg / "manifest.json").read_text())
    for f in m["files"]:
        if f["filing_type"] == "transactions":
            f.update(path="transactions.csv.gz", compression="gzip")
        if f["filing_type"] == "account_balances":
            f.update(path="account_balances.jsonl", format="jsonl")
        if f["filing_type"] == "liquidity":
            f.update(path="liquidity.parquet", format="parquet")
    (pkg / "manifest.json").write_text(json.dumps(m))
    refresh_manifest(pkg)
    drop_package(pkg, home.landing)
    assert run_intake(home)[PAY].status == "RECEIVED", findings(home, PAY)
    assert query(home, "select count(*), sum(amount_cny) from raw.transactions") == [(9, pytest.approx(9524))]
    assert query(home, "select count(*), sum(closing) from raw.account_balances") == [
        (96, pytest.approx(391988))
    ]
    assert query(home, "select count(*), sum(hqla), min(as_of_date) from raw.liquidity")[0][:2] == (
        31,
        pytest.approx(sum([1500, 3500, 3500, 3488] + [2488] * 27)),
    )


def test_redrop_is_a_noop_and_conflicting_bytes_are_malformed(home: Home, tmp_path: Path) -> None:
    drop_examples(home.landing)
    run_intake(home)
    drop_examples(home.landing)
    out = run_intake(home)
    assert out[PAY].status == "DUPLICATE"
    assert query(home, "select count(*) from raw.transactions") == [(23,)]
    assert (home.archive / "PAY0001" / PAY / "2" / "manifest.json").exists()

    pkg = copy_example(PAY, tmp_path)
    (pkg / "complaints.csv").write_text(
        (pkg / "complaints.csv").read_text().replace("explanation", "monetary")
    )
    refresh_manifest(pkg)
    drop_package(pkg, home.landing)
    out = run_intake(home)
    assert out[PAY].status == "MALFORMED"
    assert out[PAY].reason == "submission_id already used; resubmit as v2"
    assert query(home, "select status from intake.submissions where submission_id = ?", [PAY]) == [
        ("RECEIVED",)
    ]
    assert query(
        home, "select delivery_n, outcome from intake.deliveries where submission_id = ? order by 1", [PAY]
    ) == [(1, "RECEIVED"), (2, "DUPLICATE"), (3, "MALFORMED")]


def test_version_ordering(home: Home, tmp_path: Path) -> None:
    drop_examples(home.landing)
    run_intake(home)
    v3 = copy_example(PAY, tmp_path)
    v3 = v3.rename(v3.with_name("PAY0001-2026-10-v3"))
    refresh_manifest(v3, submission_id="PAY0001-2026-10-v3", version=3, supersedes=None)
    got = _malformed(home, v3)
    assert [r for r, *_ in got] == ["S005"]
    assert "set supersedes to 'PAY0001-2026-10-v1'" in got[0][3]


def test_manifest_for_another_enterprise_folder(home: Home, tmp_path: Path) -> None:
    pkg = copy_example(PAY, tmp_path)
    dest = drop_package(pkg, home.landing)
    other = home.landing / "PAY0002" / PAY
    other.parent.mkdir()
    dest.rename(other)
    out = run_intake(home)
    # refused under an id of its own: PAY0001's submission id stays free for PAY0001
    ((sid, outcome),) = out.items()
    assert sid == f"PAY0002~{PAY}~1" and outcome.status == "MALFORMED"
    assert "delivered in the landing folder of PAY0002" in outcome.reason
    assert outcome.archive_path == home.archive / "PAY0002" / "_refused" / PAY / "1"
    assert query(home, "select count(*) from intake.submissions where submission_id = ?", [PAY]) == [(0,)]


def test_unparsable_manifest_waits_for_the_grace_period(home: Home, tmp_path: Path) -> None:
    pkg = copy_example(PAY, tmp_path)
    dest = drop_package(pkg, home.landing)
    (dest / "manifest.json").write_text('{"spec_version": "1.0", "submiss')
    now = datetime.now(UTC)
    os.utime(dest / "manifest.json", (now.timestamp(), now.timestamp()))
    assert run_intake(home, clock=now, backfill=False) == {}
    assert dest.exists()
    later = datetime.fromtimestamp(now.timestamp() + 120, tz=UTC)
    out = run_intake(home, clock=later, backfill=False)
    assert out[PAY].status == "MALFORMED"
    assert findings(home, PAY)[0][0] == "S001"
