"""Real-data mapping (pipelines/mappings): a hand-made PaySim-style slice becomes a complete package that
the normal intake accepts, with wallet balances worked out by hand. CFPB: test_mapping_cfpb.py; LendingClub:
test_mapping_lendingclub.py."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import duckdb
import pytest

from pipelines.cycle import validate_and_decide
from pipelines.home import Home
from pipelines.intake.service import take_in
from pipelines.mappings.convert import map_dataset
from pipelines.warehouse.db import connect_writer, writer_lock

CLOCK = datetime(2027, 1, 1, tzinfo=UTC)
# step (hours after 2026-10-01 00:00 Shanghai), type, amount, nameOrig, nameDest, isFraud
ROWS = [
    (1, "CASH_IN", "1000.00", "C1", "M9", "0.0"),
    (2, "TRANSFER", "600.00", "C1", "C2", "1.0"),
    (3, "PAYMENT", "100.00", "C2", "M1", "0.0"),
    (26, "CASH_OUT", "300.00", "C1", "C4", "1.0"),
    (27, "DEBIT", "50.00", "C3", "C3", "0.0"),
]
HEADER = "step,type,amount,nameOrig,oldbalanceOrg,newbalanceOrig,nameDest,oldbalanceDest,newbalanceDest,isFraud,isFlaggedFraud"


@pytest.fixture(scope="module")
def mapped(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("mapping")
    data = root / "data" / "paysim_sample"
    data.mkdir(parents=True)
    lines = [HEADER] + [f"{s},{t},{a},{o},0,0,{d},0,0,{f},0.0" for s, t, a, o, d, f in ROWS]
    (data / "paysim_sample.csv.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    home = Home.resolve(root / "home").ensure()
    result = map_dataset("paysim", root / "data", home.landing)
    with writer_lock(home), connect_writer(home) as con:
        take_in(con, home, clock=CLOCK, backfill=True)
        decided = validate_and_decide(con, home, CLOCK, backfill=True)
        con.execute("checkpoint")
    return home, result, decided


def test_slice_is_one_accepted_package(mapped) -> None:
    _, result, decided = mapped
    assert result.packages == ["PAY9001-2026-10-v1"]
    assert decided == {"PAY9001-2026-10-v1": "ACCEPTED"}


def test_balances_follow_from_the_rows(mapped) -> None:
    home, _, _ = mapped
    con = duckdb.connect(str(home.warehouse), read_only=True)
    wallets = dict(
        con.execute(
            "select account_id, (opening, credits, debits, closing) from raw.account_balances "
            "where account_id like 'W%' order by 1"
        ).fetchall()
    )
    # C1: 1000 in, 600 + 300 out; C2: 600 in, 100 out; C3 needs an opening of 50 for its 50 out
    assert {k: tuple(float(x) for x in v) for k, v in wallets.items()} == {
        "WC1": (0.0, 1000.0, 900.0, 100.0),
        "WC2": (0.0, 600.0, 100.0, 500.0),
        "WC3": (50.0, 0.0, 50.0, 0.0),
    }
    reserve = con.execute(
        "select min_by(opening, biz_date), sum(credits), sum(debits), max_by(closing, biz_date) "
        "from raw.account_balances where account_id = 'RC1'"
    ).fetchone()
    assert tuple(float(x) for x in reserve) == (50.0, 1000.0, 450.0, 600.0)
    legs = con.execute("select leg, count(*) from raw.transactions group by 1 order by 1").fetchall()
    assert legs == [("bank", 4), ("customer", 5)]  # the wallet-to-wallet transfer has no bank leg
    con.close()
