"""Formats and encodings: one filing in every physical format loads identical raw rows; declared encodings
load exact Chinese text; an undeclared encoding is a clear S013 finding and leaves no mojibake in raw.*."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import duckdb
import pytest

from pipelines.contracts import load_contracts
from pipelines.home import Home
from pipelines.intake.service import take_in
from pipelines.warehouse.db import connect_writer, writer_lock
from tests.badinput.catalog import seal, set_entry, start

CLOCK = datetime(2026, 11, 21, tzinfo=UTC)
NAME = "示例支付科技有限公司"
# U+20BB7 has no GBK code: only GB18030 (four bytes) can carry it
NAME_4BYTE = "示例支付𠮷科技有限公司"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, dict]:
    home = Home.resolve(tmp_path_factory.mktemp("formats") / "home").ensure()
    land = home.landing
    # transactions in four formats
    start(land, "PAY3001")  # csv as delivered
    gz = start(land, "PAY3002")
    (gz / "transactions.csv.gz").write_bytes(gzip.compress((gz / "transactions.csv").read_bytes(), mtime=0))
    (gz / "transactions.csv").unlink()
    set_entry(gz, "transactions", path="transactions.csv.gz", compression="gzip")
    pq = start(land, "PAY3003")
    contract = load_contracts()["transactions"]
    casts = ", ".join(f"cast({c.name} as {c.duckdb_type}) as {c.name}" for c in contract.columns)
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(
        f"copy (select {casts} from read_csv('{pq / 'transactions.csv'}', all_varchar = true)) "
        f"to '{pq / 'transactions.parquet'}' (format parquet)"
    )
    (pq / "transactions.csv").unlink()
    set_entry(pq, "transactions", path="transactions.parquet", format="parquet")
    js = start(land, "PAY3004")
    con.execute(
        f"copy (select * from read_csv('{js / 'transactions.csv'}', all_varchar = true)) "
        f"to '{js / 'transactions.jsonl'}' (format json)"
    )
    (js / "transactions.csv").unlink()
    set_entry(js, "transactions", path="transactions.jsonl", format="jsonl")

    # enterprise_profile in four encodings, and one undeclared
    def profile(ent: str, encoding: str, declared: str, *, bom: bool = False, name: str = NAME) -> None:
        pkg = start(land, ent)
        path = pkg / "enterprise_profile.csv"
        text = path.read_text(encoding="utf-8").replace(NAME, name)
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
        set_entry(pkg, "enterprise_profile", encoding=declared, reseal=False)
        seal(pkg)

    profile("PAY3011", "utf-8", "utf-8")
    profile("PAY3012", "utf-8", "utf-8", bom=True)
    profile("PAY3013", "gbk", "gbk")
    profile("PAY3014", "gb18030", "gb18030", name=NAME_4BYTE)
    profile("PAY3015", "gbk", "utf-8")  # undeclared GBK
    profile("PAY3016", "gb18030", "gbk", name=NAME_4BYTE)  # GB18030-only bytes declared as GBK

    with writer_lock(home), connect_writer(home) as wcon:
        outcomes = {o.submission_id.split("-")[0]: o for o in take_in(wcon, home, clock=CLOCK, backfill=True)}
    return home, outcomes


def query(home: Home, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_every_format_loads_identical_raw_rows(loaded) -> None:
    home, outcomes = loaded
    assert {e: outcomes[e].status for e in ("PAY3001", "PAY3002", "PAY3003", "PAY3004")} == dict.fromkeys(
        ("PAY3001", "PAY3002", "PAY3003", "PAY3004"), "RECEIVED"
    )
    cols = ", ".join(load_contracts()["transactions"].column_names)
    rows = {  # the enterprise id (in ids too) is the one intended difference
        ent: [
            tuple(v.replace(ent, "ENT") if isinstance(v, str) else v for v in row)
            for row in query(
                home,
                f"select _row, {cols} from raw.transactions where submission_id = ? order by _row",
                [f"{ent}-2026-10-v1"],
            )
        ]
        for ent in ("PAY3001", "PAY3002", "PAY3003", "PAY3004")
    }
    assert len(rows["PAY3001"]) == 9
    assert rows["PAY3002"] == rows["PAY3001"]
    assert rows["PAY3003"] == rows["PAY3001"]
    assert rows["PAY3004"] == rows["PAY3001"]
    # the values themselves: the first leg, a 2,000.00 top-up booked 10:15 Shanghai = 02:15 UTC
    first = dict(zip(["_row", *cols.split(", ")], rows["PAY3003"][0], strict=True))
    assert (str(first["amount_cny"]), first["booked_at"].hour, first["txn_id"]) == ("2000.00", 2, "ENT-T0001")


@pytest.mark.parametrize(
    ("ent", "name"),
    [("PAY3011", NAME), ("PAY3012", NAME), ("PAY3013", NAME), ("PAY3014", NAME_4BYTE)],
    ids=["utf8", "utf8-bom", "gbk", "gb18030"],
)
def test_declared_encodings_load_exact_chinese_text(loaded, ent: str, name: str) -> None:
    home, outcomes = loaded
    assert outcomes[ent].status == "RECEIVED", outcomes[ent].reason
    assert query(
        home,
        "select enterprise_id, name, uscc from raw.enterprise_profile where submission_id = ?",
        [f"{ent}-2026-10-v1"],
    ) == [(ent, name, "91310115MA1K000190")]


@pytest.mark.parametrize(
    ("ent", "reason"),
    [
        (
            "PAY3015",
            "enterprise_profile.csv: the file is not valid utf-8 (line 2); if it is GBK or GB18030, declare",
        ),
        ("PAY3016", "enterprise_profile.csv: bytes invalid in the declared encoding gbk at line 2"),
    ],
    ids=["gbk-declared-utf8", "gb18030-declared-gbk"],
)
def test_wrong_encoding_is_a_clear_finding_and_no_mojibake(loaded, ent: str, reason: str) -> None:
    home, outcomes = loaded
    sid = f"{ent}-2026-10-v1"
    assert outcomes[ent].status == "MALFORMED"
    found = query(
        home, "select rule_id, filing_type, message from quality.findings where submission_id = ?", [sid]
    )
    assert [(r, ft) for r, ft, _ in found] == [("S013", "enterprise_profile")]
    assert reason in found[0][2]
    for table in ("enterprise_profile", "transactions"):
        assert query(home, f"select count(*) from raw.{table} where submission_id = ?", [sid]) == [(0,)]


def test_gzip_csv_loads_under_a_small_memory_cap(tmp_path, monkeypatch) -> None:
    """The intake caps DuckDB's memory; the CSV reader's buffer must fit under the cap (an oversized
    default once made every gzip CSV fail with an out-of-memory S012)."""
    monkeypatch.setenv("SUPTECH_INTAKE_MEMORY_LIMIT", "256MB")
    home = Home.resolve(tmp_path / "home").ensure()
    gz = start(home.landing, "PAY3101")
    (gz / "transactions.csv.gz").write_bytes(gzip.compress((gz / "transactions.csv").read_bytes(), mtime=0))
    (gz / "transactions.csv").unlink()
    set_entry(gz, "transactions", path="transactions.csv.gz", compression="gzip")
    with writer_lock(home), connect_writer(home) as con:
        before = con.execute("select current_setting('memory_limit')").fetchone()[0]
        (outcome,) = take_in(con, home, clock=CLOCK, backfill=True)
        after = con.execute("select current_setting('memory_limit')").fetchone()[0]
        rows = con.execute("select count(*) from raw.transactions").fetchone()[0]
    assert (outcome.status, rows) == ("RECEIVED", 9), outcome.reason
    assert after == before  # the cap holds only while files are taken in
