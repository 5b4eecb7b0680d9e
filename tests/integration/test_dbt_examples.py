"""The dbt marts reproduce the hand-worked figures of spec/examples/README.md exactly.

One module-scoped warehouse: the two example packages (PAY0001, P2P0001, period 2026-10) plus intake
records for a late filer (PAY0002) and a missing filing (PAY0003), then one `dbt build` (seeds, models,
data tests and unit tests) at a clock after October's close.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.cycle import validate_and_decide
from pipelines.dbt_runner import build
from pipelines.home import Home
from pipelines.intake.service import take_in
from pipelines.warehouse.db import connect_writer
from tests.support import EXAMPLES, drop_examples

PACKAGES = [EXAMPLES / "PAY0001" / "PAY0001-2026-10-v1", EXAMPLES / "P2P0001" / "P2P0001-2026-10-v1"]

# After October's close (due 2026-11-10 23:59:59 +08:00, close 20 days later); November has ended too,
# so every enterprise is expected for 2026-11 but nothing is due yet.
AS_OF = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def register_submission(
    con: duckdb.DuckDBPyConnection,
    submission_id: str,
    received_at: str,
    status: str = "ACCEPTED",
    *,
    submitted_at: str | None = None,
) -> None:
    """intake.submissions row plus its RECEIVED and final-status events, as the intake records them."""
    enterprise_id, period_y, period_m, version = submission_id.rsplit("-", 3)
    version_n = int(version.removeprefix("v"))
    con.execute(
        """insert into intake.submissions (submission_id, enterprise_id, ent_type, period, version, spec_version,
               submitted_at, received_at, status, status_at)
           values (?, ?, ?, ?, ?, '1.0', ?, ?, ?, cast(? as timestamptz) + interval 1 minute)""",
        [
            submission_id,
            enterprise_id,
            enterprise_id[:-4],
            f"{period_y}-{period_m}",
            version_n,
            submitted_at or received_at,
            received_at,
            status,
            received_at,
        ],
    )
    con.execute(
        """insert into intake.submission_events (submission_id, status, event_at)
           values (?, 'RECEIVED', ?), (?, ?, cast(? as timestamptz) + interval 1 minute)""",
        [submission_id, received_at, submission_id, status, received_at],
    )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not all((p / "manifest.json").exists() for p in PACKAGES):
        pytest.fail(f"example packages not found under {EXAMPLES}: ../shared must sit beside the project")
    root = tmp_path_factory.mktemp("dbt_examples")
    home = Home.resolve(root).ensure()
    path = home.warehouse
    # the real intake and validity stage, as a backfill of the examples' deliveries
    drop_examples(home.landing)
    with connect_writer(home) as con:
        take_in(con, home, clock=AS_OF, backfill=True)
        assert validate_and_decide(con, home, AS_OF, backfill=True) == {
            "PAY0001-2026-10-v1": "ACCEPTED",
            "P2P0001-2026-10-v1": "ACCEPTED",
        }
        assert con.execute("select count(*) from quality.findings").fetchone() == (0,)
        # late: v1 rejected before the due time, v2 accepted 1 day 9 h after it -> 2 days late
        register_submission(con, "PAY0002-2026-10-v1", "2026-11-09T10:00:00+08:00", "REJECTED")
        register_submission(con, "PAY0002-2026-10-v2", "2026-11-12T09:00:00+08:00")
        # missing: filed September on time, never October
        register_submission(con, "PAY0003-2026-09-v1", "2026-10-09T12:00:00+08:00")
    result = build(path, AS_OF, target_dir=root / "target")
    print(f"\n{result.summary()}")
    return path


@pytest.fixture(scope="module")
def query(warehouse: Path):
    con = duckdb.connect(str(warehouse), read_only=True)
    con.execute("set TimeZone = 'UTC'")

    def run(sql: str, params: list | None = None) -> list[tuple]:
        return con.execute(sql, params or []).fetchall()

    yield run
    con.close()


def indicator(query, enterprise_id: str, indicator_id: str, metric: str, **where: str) -> list[tuple]:
    clauses = "".join(f" and {k} = '{v}'" for k, v in where.items())
    return query(
        f"""select coalesce(dimension, ''), coalesce(dimension_value, ''), value, numerator, denominator, status
            from marts.fct_indicator_values
            where enterprise_id = ? and period = '2026-10' and indicator_id = ? and metric = ? {clauses}
            order by 1, 2""",
        [enterprise_id, indicator_id, metric],
    )


def test_res001_is_one_every_day_for_pay0001(query) -> None:
    rows = query(
        """select as_of_date, value, numerator, denominator, threshold, status
           from marts.fct_indicator_values
           where enterprise_id = 'PAY0001' and indicator_id = 'RES-001' and metric = 'coverage_ratio'
           order by as_of_date"""
    )
    assert len(rows) == 31
    assert [r[0].day for r in rows] == list(range(1, 32))
    assert all(r[1] == 1.0 and r[2] == r[3] and r[4] == 1.0 and r[5] == "OK" for r in rows), rows
    worst = indicator(query, "PAY0001", "RES-001", "coverage_ratio_worst_day")
    assert worst == [("", "", 1.0, 1500.0, 1500.0, "OK")]
    assert indicator(query, "PAY0001", "RES-001", "coverage_ratio_avg") == [("", "", 1.0, 31.0, 31.0, "INFO")]


def test_derived_wallet_totals_per_day(query) -> None:
    rows = query(
        """select extract(day from biz_date), derived_total, filed_closing_total
           from intermediate.int_customer_balances_daily
           where enterprise_id = 'PAY0001' and account_class = 'CUSTOMER_WALLET' order by biz_date"""
    )
    expected = {1: 1500} | {d: 3500 for d in (2, 3)} | {4: 3488} | {d: 2488 for d in range(5, 32)}
    assert {int(d): float(t) for d, t, _ in rows} == expected
    assert float(rows[-1][2]) == 2488.0  # lands on the filed closings 2,100 + 200 + 188


def test_custody_pool_matches_cs1_for_p2p0001(query) -> None:
    rows = query(
        """select extract(day from biz_date), derived_total from intermediate.int_customer_balances_daily
           where enterprise_id = 'P2P0001' and account_class = 'CUSTOMER_SUB' and pool_account_id = 'CS1'
           order by biz_date"""
    )
    expected = {d: 12000 for d in (1, 2)} | {d: 100 for d in range(3, 25)} | {d: 1220 for d in range(25, 32)}
    assert {int(d): float(t) for d, t in rows} == expected


def test_active_customers_and_complaint_rate(query) -> None:
    parties = query("select party_id from intermediate.int_customers_active where enterprise_id = 'PAY0001'")
    assert sorted(p for (p,) in parties) == ["M1", "P1", "P2"]
    [(_, _, value, numerator, denominator, status)] = indicator(
        query, "PAY0001", "CPL-001", "complaints_per_10k_customers"
    )
    assert round(value, 2) == 3333.33 and value != round(value, 2)  # full precision stored
    assert (numerator, denominator, status) == (1.0, 3.0, "INSUFFICIENT_PEERS")  # PAY0001 has < 5 peers
    [(_, _, per_volume, _, volume, _)] = indicator(query, "PAY0001", "CPL-001", "complaints_per_100m_cny")
    assert volume == 4512.0 and per_volume == pytest.approx(1e8 / 4512)
    [(_, _, p2p_rate, _, p2p_customers, _)] = indicator(
        query, "P2P0001", "CPL-001", "complaints_per_10k_customers"
    )
    assert (p2p_rate, p2p_customers) == (0.0, 3.0)


def test_flow001_pay0001(query) -> None:

    rows = {
        (metric, dim, val): value
        for metric in ("inflow", "outflow", "net")
        for dim, val, value, *_ in indicator(query, "PAY0001", "FLOW-001", metric)
    }
    assert rows[("inflow", "", "")] == 2000.0
    assert rows[("outflow", "", "")] == 1000.0
    assert rows[("net", "", "")] == 1000.0
    region = {k: v for k, v in rows.items() if k[1] == "cp_region"}
    assert region == {
        ("inflow", "cp_region", "310115"): 2000.0,
        ("inflow", "cp_region", "310104"): 0.0,
        ("outflow", "cp_region", "310115"): 0.0,
        ("outflow", "cp_region", "310104"): 1000.0,
        ("net", "cp_region", "310115"): 2000.0,
        ("net", "cp_region", "310104"): -1000.0,
    }
    assert rows[("outflow", "is_cross_border", "false")] == 1000.0
    assert rows[("inflow", "is_related_party", "false")] == 2000.0


def test_flow001_p2p0001(query) -> None:
    totals = {
        metric: indicator(query, "P2P0001", "FLOW-001", metric)[0] for metric in ("inflow", "outflow", "net")
    }
    assert {m: r[2] for m, r in totals.items()} == {"inflow": 13170.0, "outflow": 11900.0, "net": 1270.0}
    assert totals["net"][5] == "INSUFFICIENT_HISTORY" and totals["inflow"][5] == "INFO"


def test_flow002_and_flow003_on_examples(query) -> None:
    [fatf] = indicator(query, "PAY0001", "FLOW-002", "fatf_outflow_share")
    assert fatf[2:] == (0.0, 0.0, 1000.0, "OK")
    shares = indicator(query, "PAY0001", "FLOW-002", "outflow_share", dimension="cp_region")
    # fewer outflow legs than FLOW-002's minimum (min_outflow_legs): no screen at all
    assert [(r[1], r[2], r[5]) for r in shares] == [("310104", 1.0, "INSUFFICIENT_DATA")]
    [hhi] = indicator(query, "P2P0001", "FLOW-003", "hhi")
    assert hhi[2:] == (10000.0, 11900.0**2, 11900.0**2, "INSUFFICIENT_DATA")  # one counterparty, B1


def test_fq001_on_time_for_the_examples(query) -> None:
    rows = query(
        """select enterprise_id, timeliness_status, days_late, is_missing_at_close, first_accepted_submission_id
           from marts.fct_filing_timeliness where period = '2026-10' and enterprise_id in ('PAY0001', 'P2P0001')
           order by 1"""
    )
    assert rows == [
        ("P2P0001", "on_time", 0, False, "P2P0001-2026-10-v1"),
        ("PAY0001", "on_time", 0, False, "PAY0001-2026-10-v1"),
    ]
    for enterprise_id in ("PAY0001", "P2P0001"):
        assert indicator(query, enterprise_id, "FQ-001", "days_late") == [("", "", 0.0, 0.0, 1.0, "OK")]
        assert indicator(query, enterprise_id, "FQ-001", "missing") == [("", "", 0.0, 0.0, 1.0, "OK")]
    due = query(
        "select due_at, close_at from marts.fct_filing_timeliness where enterprise_id = 'PAY0001' and period = '2026-10'"
    )
    assert due == [
        (datetime(2026, 11, 10, 15, 59, 59, tzinfo=UTC), datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC))
    ]


def test_fq001_late_filing_counts_the_first_accepted_version(query) -> None:
    [(status, days, first)] = query(
        """select timeliness_status, days_late, first_accepted_submission_id from marts.fct_filing_timeliness
           where enterprise_id = 'PAY0002' and period = '2026-10'"""
    )
    assert (status, days, first) == ("late", 2, "PAY0002-2026-10-v2")
    assert indicator(query, "PAY0002", "FQ-001", "days_late") == [("", "", 2.0, 2.0, 1.0, "BREACH")]
    assert indicator(query, "PAY0002", "FQ-001", "missing") == [("", "", 0.0, 0.0, 1.0, "OK")]


def test_fq001_missing_after_close(query) -> None:
    rows = query(
        """select period, timeliness_status, is_missing_at_close from marts.fct_filing_timeliness
           where enterprise_id = 'PAY0003' order by period"""
    )
    assert rows == [("2026-09", "on_time", False), ("2026-10", "missing", True), ("2026-11", "pending", None)]
    assert indicator(query, "PAY0003", "FQ-001", "missing") == [("", "", 1.0, 1.0, 1.0, "BREACH")]
    assert indicator(query, "PAY0003", "FQ-001", "days_late") == []


def test_november_is_expected_but_not_due(query) -> None:
    rows = query(
        "select enterprise_id, timeliness_status from marts.fct_filing_timeliness where period = '2026-11' order by 1"
    )
    assert rows == [(e, "pending") for e in ("P2P0001", "PAY0001", "PAY0002", "PAY0003")]
    assert query("select count(*) from marts.fct_indicator_values where period = '2026-11'") == [(0,)]


def test_alerts_are_exactly_the_late_and_the_missing_filing(query) -> None:
    rows = query(
        "select enterprise_id, period, indicator_id, metric, severity, threshold, evidence from marts.fct_alerts order by 1"
    )
    assert [r[:6] for r in rows] == [
        ("PAY0002", "2026-10", "FQ-001", "days_late", "BREACH", 0.0),
        ("PAY0003", "2026-10", "FQ-001", "missing", "BREACH", 0.0),
    ]
    assert rows[0][6] == "PAY0002-2026-10-v2 received 2026-11-12 09:00:00; due 2026-11-10 23:59:59"


def test_every_row_is_stamped_with_the_warehouse_clock(query) -> None:
    for table in ("fct_indicator_values", "fct_alerts", "fct_filing_timeliness"):
        assert query(f"select distinct computed_at from marts.{table}") == [(AS_OF,)]
