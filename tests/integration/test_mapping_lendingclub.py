"""LendingClub mapping (pipelines/mappings/loans.py) and D4 overdue buckets: a hand-made slice becomes one
accepted P2P package, and CRD-001's buckets in the warehouse equal an independent computation from the
raw CSV, with the amounts worked out by hand."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import duckdb

from pipelines.cycle import validate_and_decide
from pipelines.home import Home
from pipelines.intake.service import take_in
from pipelines.mappings.compare import (
    compare_overdue,
    overdue_buckets_from_raw,
    overdue_buckets_from_warehouse,
)
from pipelines.mappings.convert import map_dataset
from pipelines.warehouse.db import connect_writer, writer_lock

CLOCK = datetime(2027, 1, 1, tzinfo=UTC)
HEADER = "rownames,loan_amount,term,interest_rate,issue_month,loan_status,balance"
# loan_status -> days past due (lendingclub.yml): grace 8 (M1), 16-30 23 (M1), 31-120 76 (M3)
ROWS = [
    "1,1000,36,10.5,Jan-2018,Current,900.50",
    "2,2000,36,12.25,Feb-2018,In Grace Period,1500.25",
    "3,3000,60,15,Mar-2018,Late (16-30 days),2800.00",
    "4,4000,36,20.1,Mar-2018,Late (31-120 days),3999.99",
    "5,5000,36,8,Jan-2018,Fully Paid,0",
    "6,6000,60,25,Feb-2018,Charged Off,5500",
]


def test_slice_maps_and_overdue_buckets_match(tmp_path) -> None:
    from pipelines.dbt_runner import run_dbt

    data = tmp_path / "data" / "lendingclub"
    data.mkdir(parents=True)
    text = "\n".join([HEADER, *ROWS]) + "\n"
    (data / "loans_full_schema_2018q1.csv.gz").write_bytes(gzip.compress(text.encode()))
    home = Home.resolve(tmp_path / "home").ensure()
    result = map_dataset("lendingclub", tmp_path / "data", home.landing)
    assert result.packages == ["P2P9001-2018-06-v1"]
    with writer_lock(home), connect_writer(home) as con:
        take_in(con, home, clock=CLOCK, backfill=True)
        decided = validate_and_decide(con, home, CLOCK, backfill=True)
        findings = con.execute("select count(*) from quality.findings").fetchone()
        loans = con.execute(
            "select loan_id, status, days_past_due, outstanding_principal, written_off_amount "
            "from raw.loans order by loan_id"
        ).fetchall()
        positions = con.execute("select count(*), sum(principal) from raw.investments").fetchone()
        con.execute("checkpoint")
    assert decided == {"P2P9001-2018-06-v1": "ACCEPTED"}
    assert findings == (0,)
    assert [(s, d, float(o), float(w)) for _, s, d, o, w in loans] == [
        ("current", 0, 900.50, 0.0),
        ("overdue", 8, 1500.25, 0.0),
        ("overdue", 23, 2800.00, 0.0),
        ("overdue", 76, 3999.99, 0.0),
        ("repaid", 0, 0.0, 0.0),
        ("written_off", 0, 0.0, 5500.0),
    ]
    assert (positions[0], float(positions[1])) == (4, 9200.74)
    args = [
        "build",
        "--select",
        "+fct_indicator_values",
        "--resource-type",
        "seed",
        "--resource-type",
        "model",
    ]
    ran = run_dbt(args, warehouse=home.warehouse, as_of=CLOCK, target_dir=tmp_path / "t")
    assert ran.success, ran.summary()
    con = duckdb.connect(str(home.warehouse), read_only=True)
    both = compare_overdue(
        overdue_buckets_from_warehouse(con, "P2P9001"), overdue_buckets_from_raw(tmp_path / "data")
    )
    con.close()
    # outstanding 900.50 + 1500.25 + 2800.00 + 3999.99 = 9200.74; M1 = 1500.25 + 2800.00, M3 = 3999.99
    assert sorted(both.select("bucket", "overdue_raw", "overdue_warehouse", "outstanding_raw").rows()) == [
        ("M1", 430025, 430025, 920074),
        ("M2", 0, 0, 920074),
        ("M3", 399999, 399999, 920074),
        ("M3+", 0, 0, 920074),
        ("total", 830024, 830024, 920074),
    ]
    assert both["match"].all()
