"""The quality and macro stages on hand-built warehouses: two consecutive periods (2026-09 accepted, 2026-10
being checked) shaped like the spec's PAY0001 and P2P0001 examples, with every expected finding worked out
by hand; SKIPPED and its re-evaluation when the missing period arrives."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import duckdb
import pytest

from pipelines.quality.stages import reevaluate, run_quality_and_macro
from pipelines.warehouse.schema import create_schema

AT = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
D = date.fromisoformat


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    for i, row in enumerate(rows, start=1):
        row = {"_row": i, **row} if table.startswith("raw.") else row
        cols = ", ".join(row)
        con.execute(f"insert into {table} ({cols}) values ({', '.join('?' * len(row))})", list(row.values()))


def _submission(
    con: duckdb.DuckDBPyConnection, sid: str, status: str = "RECEIVED", received: str = "2026-11-05"
) -> None:
    ent, year, month, v = sid.rsplit("-", 3)
    at = datetime.fromisoformat(received + "T02:00:00+00:00")
    _insert(
        con,
        "intake.submissions",
        [
            dict(
                submission_id=sid,
                enterprise_id=ent,
                ent_type=ent[:-4],
                period=f"{year}-{month}",
                version=int(v[1:]),
                received_at=at,
                status=status,
                status_at=at,
            )
        ],
    )
    if status.startswith("ACCEPTED"):
        _insert(con, "intake.submission_events", [dict(submission_id=sid, status=status, event_at=at)])


def _totals(con: duckdb.DuckDBPyConnection, sid: str, **totals: str) -> None:
    import json

    for key, value in totals.items():
        ft, col = key.split("__")
        _insert(
            con,
            "intake.files",
            [
                dict(
                    submission_id=sid,
                    filing_type=ft,
                    path=f"{ft}.csv",
                    control_totals=json.dumps({col: value}),
                )
            ],
        )


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    create_schema(c)
    yield c
    c.close()


def _results(con, sids: list[str]) -> dict[tuple[str, str], tuple[str, int]]:
    rows = con.execute(
        "select submission_id, rule_id, status, finding_count from quality.rule_results "
        "where submission_id in (select unnest(?)) order by evaluated_at",
        [sids],
    ).fetchall()
    return {(s, r): (st, n) for s, r, st, n in rows}  # the latest result per rule


def _findings(con, sid: str) -> list[tuple[str, str]]:
    return con.execute(
        "select rule_id, record_key from quality.findings where submission_id = ? order by rule_id, record_key",
        [sid],
    ).fetchall()


def _pay_two_periods(con) -> None:
    """PAY0001: 09 accepted (RB1 closes 1000, W1 600, W2 400, transaction T0099); 10 under check."""
    prev, sid = "PAY0001-2026-09-v1", "PAY0001-2026-10-v1"
    _submission(con, prev, "ACCEPTED", "2026-10-05")
    _submission(con, sid)
    _insert(
        con,
        "raw.account_balances",
        [
            dict(
                submission_id=prev,
                account_id="RB1",
                biz_date=D("2026-09-30"),
                opening=900,
                credits=100,
                debits=0,
                closing=1000,
                bank_confirmed_closing=1000,
            ),
            dict(
                submission_id=prev,
                account_id="W1",
                biz_date=D("2026-09-30"),
                opening=0,
                credits=600,
                debits=0,
                closing=600,
            ),
            dict(
                submission_id=prev,
                account_id="W2",
                biz_date=D("2026-09-30"),
                opening=0,
                credits=400,
                debits=0,
                closing=400,
            ),
            # 10: RB1 continues (1000); bank confirms 1060 on 10-02 (M003); W2 opens at 390, not 400 (M001)
            dict(
                submission_id=sid,
                account_id="RB1",
                biz_date=D("2026-10-01"),
                opening=1000,
                credits=0,
                debits=0,
                closing=1000,
                bank_confirmed_closing=1000,
            ),
            dict(
                submission_id=sid,
                account_id="RB1",
                biz_date=D("2026-10-02"),
                opening=1000,
                credits=50,
                debits=0,
                closing=1050,
                bank_confirmed_closing=1060,
            ),
            dict(
                submission_id=sid,
                account_id="W1",
                biz_date=D("2026-10-31"),
                opening=600,
                credits=50,
                debits=0,
                closing=650,
            ),
            dict(
                submission_id=sid,
                account_id="W2",
                biz_date=D("2026-10-31"),
                opening=390,
                credits=0,
                debits=0,
                closing=390,
            ),
        ],
    )
    _insert(
        con,
        "raw.accounts",
        [
            dict(submission_id=sid, account_id="RB1", account_class="RESERVE_BANK"),
            dict(submission_id=sid, account_id="W1", account_class="CUSTOMER_WALLET"),
            dict(submission_id=sid, account_id="W2", account_class="CUSTOMER_WALLET"),
        ],
    )
    _insert(con, "raw.transactions", [dict(submission_id=prev, txn_id="T0099", leg="customer", status="ok")])
    _insert(
        con,
        "raw.transactions",
        [
            dict(
                submission_id=sid,
                txn_id="T1",
                leg="customer",
                value_date=D("2026-10-02"),
                credit_account_id="W1",
                amount_cny=50,
                status="ok",
                purpose="top_up",
            ),
            dict(
                submission_id=sid,
                txn_id="T2",
                leg="bank",
                value_date=D("2026-10-02"),
                credit_account_id="RB1",
                amount_cny=50,
                status="ok",
                purpose="top_up",
            ),
            # a failed reversal naming a transaction that exists nowhere (M005)
            dict(
                submission_id=sid,
                txn_id="T3",
                leg="customer",
                value_date=D("2026-10-03"),
                debit_account_id="W1",
                amount_cny=5,
                status="failed",
                purpose="top_up",
                reverses_txn_id="T0098",
            ),
        ],
    )
    _insert(
        con,
        "raw.aml_reports",
        [
            dict(submission_id=sid, report_id="R1", txn_id="T0099"),  # in the accepted 09: fine
            dict(submission_id=sid, report_id="R2", txn_id="T1"),  # in the submission: fine
            dict(submission_id=sid, report_id="R3", txn_id="TX404"),  # nowhere (M005)
        ],
    )
    # customer total: openings 600 + 390 = 990 on 10-01, +50 from 10-02; 10-03 files 1100 (M006)
    _insert(
        con,
        "raw.liquidity",
        [
            dict(
                submission_id=sid,
                as_of_date=D("2026-10-01"),
                customer_bal_stable=800,
                customer_bal_less_stable=190,
            ),
            dict(
                submission_id=sid,
                as_of_date=D("2026-10-02"),
                customer_bal_stable=1000,
                customer_bal_less_stable=40,
            ),
            dict(
                submission_id=sid,
                as_of_date=D("2026-10-03"),
                customer_bal_stable=1000,
                customer_bal_less_stable=100,
            ),
        ],
    )


def test_pay_macro_rules_find_exactly_the_planted_breaks(con):
    _pay_two_periods(con)
    sid = "PAY0001-2026-10-v1"
    errors = run_quality_and_macro(con, [sid], found_at=AT)
    assert _findings(con, sid) == [
        ("M001", "W2|2026-10-31"),
        ("M003", "RB1|2026-10-02"),
        ("M005", "R3|TX404"),
        ("M005", "T3"),
        ("M006", "2026-10-03"),
    ]
    assert errors == {sid: 3}  # M001 and M005 are errors, M003 and M006 warnings
    res = _results(con, [sid])
    assert res[(sid, "M001")] == ("FAIL", 1) and res[(sid, "M006")] == ("FAIL", 1)
    assert res[(sid, "Q001")] == ("PASS", 0)  # fewer than 1,000 amounts: nothing to test
    assert res[(sid, "M009")] == ("SKIPPED", 0)  # one earlier period, three needed
    assert (sid, "M004") not in res and (sid, "M002") not in res and (sid, "M008") not in res  # not PAY / v1
    fields = con.execute(
        "select fields from quality.findings where rule_id = 'M006' and submission_id = ?", [sid]
    ).fetchone()[0]
    assert '"derived_customer_total", "value": "1040.00"' in fields.replace("'", '"')


def test_p2p_loans_and_custody_tree(con):
    prev, sid = "P2P0001-2026-09-v1", "P2P0001-2026-10-v1"
    _submission(con, prev, "ACCEPTED", "2026-10-05")
    _submission(con, sid)
    _insert(
        con,
        "raw.loans",
        [
            dict(submission_id=prev, loan_id="L1", outstanding_principal=1000, status="current"),
            dict(submission_id=prev, loan_id="L2", outstanding_principal=500, status="current"),
            dict(submission_id=prev, loan_id="L4", outstanding_principal=0, status="written_off"),
        ],
    )
    _insert(
        con,
        "raw.loans",
        [
            # L1: 1000 - (150 + 50 - 50 reversed) - 0 = 850: fine
            dict(
                submission_id=sid,
                loan_id="L1",
                as_of_date=D("2026-10-31"),
                contract_principal=1000,
                origination_date=D("2026-08-01"),
                outstanding_principal=850,
                written_off_in_period=0,
            ),
            # L2: 500 - 100 = 400, filed 500 (M002)
            dict(
                submission_id=sid,
                loan_id="L2",
                as_of_date=D("2026-10-31"),
                contract_principal=500,
                origination_date=D("2026-08-01"),
                outstanding_principal=500,
                written_off_in_period=0,
            ),
            # L3 originated in the period: 300 - 0 - 0
            dict(
                submission_id=sid,
                loan_id="L3",
                as_of_date=D("2026-10-31"),
                contract_principal=300,
                origination_date=D("2026-10-10"),
                outstanding_principal=300,
                written_off_in_period=0,
            ),
            # L4 was written off before: its repayment is a recovery, not checked
            dict(
                submission_id=sid,
                loan_id="L4",
                as_of_date=D("2026-10-31"),
                contract_principal=700,
                origination_date=D("2026-01-01"),
                outstanding_principal=0,
                written_off_in_period=0,
            ),
        ],
    )
    leg = dict(
        submission_id=sid,
        leg="customer",
        purpose="repayment",
        status="ok",
        value_date=D("2026-10-15"),
        debit_account_id="S2",
        credit_account_id="S1",
    )
    _insert(
        con,
        "raw.transactions",
        [
            {**leg, "txn_id": "P1", "loan_id": "L1", "principal_part": 150, "amount_cny": 160},
            {**leg, "txn_id": "P2", "loan_id": "L1", "principal_part": 50, "amount_cny": 55},
            {
                **leg,
                "txn_id": "P3",
                "loan_id": "L1",
                "principal_part": 50,
                "amount_cny": 55,
                "reverses_txn_id": "P2",
                "debit_account_id": "S1",
                "credit_account_id": "S2",
            },
            {**leg, "txn_id": "P4", "loan_id": "L2", "principal_part": 100, "amount_cny": 100},
            {**leg, "txn_id": "P5", "loan_id": "L4", "principal_part": 20, "amount_cny": 20},
            {
                **leg,
                "txn_id": "P6",
                "loan_id": "L2",
                "principal_part": 999,
                "amount_cny": 999,
                "status": "failed",
            },
            # lender deposit into S1 on 10-02: the sub-accounts total 300 -> 330
            dict(
                submission_id=sid,
                txn_id="P7",
                leg="customer",
                purpose="top_up",
                status="ok",
                value_date=D("2026-10-02"),
                credit_account_id="S1",
                amount_cny=30,
            ),
        ],
    )
    _insert(
        con,
        "raw.accounts",
        [
            dict(submission_id=sid, account_id="CS1", account_class="CUSTODY_SUMMARY"),
            dict(submission_id=sid, account_id="S1", account_class="CUSTOMER_SUB", parent_account_id="CS1"),
            dict(submission_id=sid, account_id="S2", account_class="CUSTOMER_SUB", parent_account_id="CS1"),
        ],
    )
    _insert(
        con,
        "raw.account_balances",
        [
            dict(
                submission_id=sid,
                account_id="CS1",
                biz_date=D("2026-10-01"),
                opening=300,
                credits=0,
                debits=0,
                closing=300,
                bank_confirmed_closing=300,
            ),
            dict(
                submission_id=sid,
                account_id="CS1",
                biz_date=D("2026-10-02"),
                opening=300,
                credits=30,
                debits=0,
                closing=320,
                bank_confirmed_closing=320,
            ),  # sub-accounts total 330 (M004)
            dict(
                submission_id=sid,
                account_id="S1",
                biz_date=D("2026-10-31"),
                opening=100,
                credits=0,
                debits=0,
                closing=100,
            ),
            dict(
                submission_id=sid,
                account_id="S2",
                biz_date=D("2026-10-31"),
                opening=200,
                credits=0,
                debits=0,
                closing=200,
            ),
        ],
    )
    errors = run_quality_and_macro(con, [sid], found_at=AT)
    assert _findings(con, sid) == [("M002", "L2|2026-10-31"), ("M004", "CS1|2026-10-02")]
    assert errors == {sid: 1}
    res = _results(con, [sid])
    assert res[(sid, "M001")] == ("PASS", 0)  # no balance rows in 09 to continue from
    assert (sid, "M006") not in res  # P2P files no liquidity


def test_benford_first_digits(con):
    conform = [301, 176, 125, 97, 79, 67, 58, 51, 46]  # round(1000 x log10(1 + 1/d)), 1,000 in all
    for sid, digits in [
        ("PAY0002-2026-10-v1", [d for d, n in enumerate(conform, start=1) for _ in range(n)]),
        ("PAY0003-2026-10-v1", [5] * 1000),  # every amount starts with 5
        ("PAY0004-2026-10-v1", [5] * 999),  # below the 1,000 the test needs
    ]:
        _submission(con, sid)
        con.execute(
            "insert into raw.transactions (submission_id, _row, txn_id, leg, status, amount_cny) "
            "select ?, i + 1, 'T' || i, 'customer', 'ok', (d * 100 + 0.5)::decimal(18, 2) "
            "from (select unnest(?) as d, generate_subscripts(?, 1) as i)",
            [sid, digits, digits],
        )
    sids = ["PAY0002-2026-10-v1", "PAY0003-2026-10-v1", "PAY0004-2026-10-v1"]
    assert run_quality_and_macro(con, sids, found_at=AT) == dict.fromkeys(sids, 0)  # Q001 only warns
    rows = con.execute("select submission_id, fields from quality.findings where rule_id = 'Q001'").fetchall()
    assert [r[0] for r in rows] == ["PAY0003-2026-10-v1"]
    # MAD = (|1 - log10(1.2)| + (1 - log10(1.2))) / 9 = 2 x 0.920819 / 9 = 0.2046
    assert '"value": "0.2046"' in rows[0][1].replace("'", '"')


def test_resubmission_drift_against_the_version_current_when_received(con):
    v1, v2 = "PAY0005-2026-10-v1", "PAY0005-2026-10-v2"
    _submission(con, v1, "ACCEPTED", "2026-11-05")
    _submission(con, v2, received="2026-11-07")
    _totals(con, v1, transactions__amount_cny="1000.00", account_balances__closing="5000.00")
    _totals(con, v2, transactions__amount_cny="1060.00", account_balances__closing="5040.00")  # +6%, +0.8%
    run_quality_and_macro(con, [v2], found_at=AT)
    assert _findings(con, v2) == [("M008", "transactions.amount_cny")]
    assert _results(con, [v2])[(v2, "M008")] == ("FAIL", 1)


def test_sudden_jump_against_history(con):
    history = {"06": "10000000", "07": "11000000", "08": "9000000", "09": "10000000"}
    for m, total in history.items():
        sid = f"PAY0006-2026-{m}-v1"
        _submission(con, sid, "ACCEPTED", f"2026-{int(m) + 1:02d}-05")
        _totals(con, sid, transactions__amount_cny=total, account_balances__closing="50000000")
    sid = "PAY0006-2026-10-v1"
    _submission(con, sid)
    # median 10m, MAD 0.5m (= the floor 5% x 10m): z = 190m / (1.4826 x 0.5m) = 256.31 -> flagged;
    # closing 60m vs 50m: MAD 0 floored at 2.5m, z = 10m / 3.7m = 2.7 -> not flagged
    _totals(con, sid, transactions__amount_cny="200000000", account_balances__closing="60000000")
    _submission(con, "PAY0007-2026-10-v1")  # no history at all
    run_quality_and_macro(con, [sid, "PAY0007-2026-10-v1"], found_at=AT)
    assert _findings(con, sid) == [("M009", "transactions.amount_cny")]
    z = con.execute("select fields from quality.findings where rule_id = 'M009'").fetchone()[0]
    assert '"robust_z", "value": "256.31"' in z.replace("'", '"')
    assert _results(con, ["PAY0007-2026-10-v1"])[("PAY0007-2026-10-v1", "M009")] == ("SKIPPED", 0)


def test_skipped_rule_is_reevaluated_when_the_previous_period_arrives(con):
    sid, prev = "PAY0008-2026-10-v1", "PAY0008-2026-09-v1"
    _submission(con, sid)
    _insert(
        con,
        "raw.account_balances",
        [
            dict(
                submission_id=sid,
                account_id="W1",
                biz_date=D("2026-10-31"),
                opening=100,
                credits=0,
                debits=0,
                closing=100,
            )
        ],
    )
    assert run_quality_and_macro(con, [sid], found_at=AT) == {sid: 0}
    assert _results(con, [sid])[(sid, "M001")] == ("SKIPPED", 0)
    con.execute("update intake.submissions set status = 'ACCEPTED' where submission_id = ?", [sid])
    assert reevaluate(con, found_at=AT) == {}  # 09 has not arrived: still skipped, nothing recorded
    assert _results(con, [sid])[(sid, "M001")] == ("SKIPPED", 0)

    # 09 arrives late and is accepted: W1 closed it at 120, so 10's opening of 100 breaks X-01
    _submission(con, prev, "ACCEPTED", "2026-11-20")
    _insert(
        con,
        "raw.account_balances",
        [
            dict(
                submission_id=prev,
                account_id="W1",
                biz_date=D("2026-09-30"),
                opening=0,
                credits=120,
                debits=0,
                closing=120,
            )
        ],
    )
    later = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    assert reevaluate(con, found_at=later) == {sid: 1}
    assert _results(con, [sid])[(sid, "M001")] == ("FAIL", 1)
    assert _findings(con, sid) == [("M001", "W1|2026-10-31")]
    # the status stays: a later result never changes an accepted submission (rules.md)
    assert con.execute("select status from intake.submissions where submission_id = ?", [sid]).fetchone() == (
        "ACCEPTED",
    )
    assert reevaluate(con, found_at=later) == {}  # evaluated once: not again
    assert con.execute("select count(*) from quality.findings").fetchone() == (1,)
    assert Decimal("120") == Decimal(
        con.execute(
            "select json_extract_string(fields, '$[1].value') from quality.findings where rule_id = 'M001'"
        ).fetchone()[0]
    )
