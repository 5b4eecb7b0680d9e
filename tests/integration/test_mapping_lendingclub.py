"""LendingClub mapping (pipelines/mappings/loans.py) and D4 overdue buckets: a hand-made slice becomes six
monthly P2P packages (2018-01 ... the 2018-06 snapshot) with each loan's disbursement legs in its issue month
and its repayments spread equally over the later months, all ACCEPTED with no finding; the snapshot's
CRD-001 buckets equal an independent computation from the raw CSV, with the amounts worked out by hand."""

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
HEADER = (
    "rownames,loan_amount,term,interest_rate,issue_month,loan_status,balance,paid_principal,paid_interest"
)
# loan_status -> days past due (lendingclub.yml): grace 8 (M1), 16-30 23 (M1), 31-120 76 (M3)
ROWS = [
    "1,1000,36,10.5,Jan-2018,Current,900.50,99.50,52.50",
    "2,2000,36,12.25,Feb-2018,In Grace Period,1500.25,499.75,80",
    "3,3000,60,15,Mar-2018,Late (16-30 days),2800.00,200,70",
    "4,4000,36,20.1,Mar-2018,Late (31-120 days),3999.99,0.01,0",
    "5,5000,36,8,Jan-2018,Fully Paid,0,5000,120",
    "6,6000,60,25,Feb-2018,Charged Off,0,500,90",
]
PERIODS = [f"2018-{m:02d}" for m in range(1, 7)]


def test_slice_maps_and_overdue_buckets_match(tmp_path) -> None:
    from pipelines.dbt_runner import run_dbt

    data = tmp_path / "data" / "lendingclub"
    data.mkdir(parents=True)
    text = "\n".join([HEADER, *ROWS]) + "\n"
    (data / "loans_full_schema_2018q1.csv.gz").write_bytes(gzip.compress(text.encode()))
    home = Home.resolve(tmp_path / "home").ensure()
    result = map_dataset("lendingclub", tmp_path / "data", home.landing)
    sids = [f"P2P9001-{p}-v1" for p in PERIODS]
    assert result.packages == sids
    with writer_lock(home), connect_writer(home) as con:
        take_in(con, home, clock=CLOCK, backfill=True)
        decided = validate_and_decide(con, home, CLOCK, backfill=True)
        findings = con.execute("select count(*) from quality.findings").fetchone()
        q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        funding = q(
            "select txn_id, leg, purpose, debit_account_id, credit_account_id, amount_cny, investment_id "
            "from raw.transactions where submission_id = 'P2P9001-2018-01-v1' and event_id like '%000001D_' "
            "order by txn_id"
        )
        loan1 = q(
            "select as_of_date, outstanding_principal from raw.loans where loan_id = 'P2P9001-L000001' "
            "order by as_of_date"
        )
        repaid1 = q(
            "select value_date, principal_part, interest_part, debit_account_id, credit_account_id "
            "from raw.transactions where loan_id = 'P2P9001-L000001' and purpose = 'repayment' order by 1"
        )
        custody = q(
            "select biz_date, closing from raw.account_balances where account_id = 'RC1' "
            "and biz_date in ('2018-01-31', '2018-02-28', '2018-06-30') order by 1"
        )
        loans = q(
            "select loan_id, status, days_past_due, outstanding_principal, written_off_amount "
            "from raw.loans where as_of_date = '2018-06-30' order by loan_id"
        )
        positions = con.execute(
            "select count(*), sum(principal) from raw.investments where as_of_date = '2018-06-30'"
        ).fetchone()
        con.execute("checkpoint")
    assert decided == dict.fromkeys(sids, "ACCEPTED")
    assert findings == (0,)
    # month 1: loan 1's lender deposit (customer + custody bank leg), funding, borrower withdrawal
    assert [(t[-9:], leg, p, d, c, float(a), i) for t, leg, p, d, c, a, i in funding] == [
        ("000001D1B", "bank", "top_up", None, "RC1", 1000.0, None),
        ("000001D1C", "customer", "top_up", None, "SI000001", 1000.0, None),
        ("000001D2C", "customer", "loan_disbursement", "SI000001", "SB000001", 1000.0, "P2P9001-I000001"),
        ("000001D3B", "bank", "withdrawal", "RC1", None, 1000.0, None),
        ("000001D3C", "customer", "withdrawal", "SB000001", None, 1000.0, None),
    ]
    # loan 1 repays 99.50 principal and 52.50 interest in five equal parts (Feb ... Jun, on the 1st)
    assert [float(o) for _, o in loan1] == [1000.0, 980.10, 960.20, 940.30, 920.40, 900.50]
    assert [(str(d), float(p), float(i), db, cr) for d, p, i, db, cr in repaid1] == [
        (f"2018-{m:02d}-01", 19.90, 10.50, "SB000001", "SI000001") for m in range(2, 7)
    ]
    # custody = the lenders' repaid money: Feb 1 loan 1 30.40 + loan 5 (5000 + 120) / 5 = 1024.00;
    # Jun 30 all paid principal 6299.26 + interest 412.50
    assert [float(c) for _, c in custody] == [0.0, 1054.40, 6711.76]
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
