"""M007 (X-13) on a hand-built ledger: PAY0009 books an ok customer leg every 2 minutes from 06:00 to 09:58
Shanghai time on every day of 2026-10 (30 legs an hour; 22:00-01:58 UTC the day before), so the busy hours
of OPS-003 are 06-10 local on every day (slot medians 30 >= 20) and every hour's usual volume is 30 legs,
with 0 failed legs usually.

Its incidents, with what the rule must conclude (FQ-004 outage_max_volume_share 0.5, outage_min_busy_minutes 30):
- B   unplanned 10-01 06:00-08:00, ledger as usual             -> 60 of 60: FINDING (in UTC it would lie on
                                                                  09-30, outside the period: local days matter)
- Q   unplanned 10-14 07:00-09:00, no leg booked then          -> 0 of 60 usual legs: consistent
- N   unplanned 10-15 07:00-09:00, ledger as usual             -> 60 of 60: FINDING
- F   unplanned 10-16 07:00-08:00, legs as usual + 3 failed    -> more failed legs than usual (0): consistent
- H   unplanned 10-20 07:00-09:00, every other leg kept         -> 30 of 60 is not below 50%: FINDING
- P   planned   10-21 07:00-09:00, ledger as usual             -> planned: not checked
- X   unplanned 10-22 01:00-03:00 (night)                      -> no busy minute: not checked
- E   unplanned 10-23 09:40-11:00                              -> 20 busy minutes < 30: not checked
- O   unplanned 10-31 09:00, still ongoing (no ended_at)       -> to the local period end: 09:00-10:00, 30 of
                                                                  30: FINDING
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
import pytest

from pipelines.quality.compiled_macros import BUSY_HOURS, compile_macro, compiled_sql
from pipelines.quality.stages import run_quality_and_macro
from pipelines.warehouse.schema import create_schema

SID = "PAY0009-2026-10-v1"
AT = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)

# (incident_id, planned, local start, local end or None)
INCIDENTS = [
    ("B", False, "2026-10-01 06:00", "2026-10-01 08:00"),
    ("Q", False, "2026-10-14 07:00", "2026-10-14 09:00"),
    ("N", False, "2026-10-15 07:00", "2026-10-15 09:00"),
    ("F", False, "2026-10-16 07:00", "2026-10-16 08:00"),
    ("H", False, "2026-10-20 07:00", "2026-10-20 09:00"),
    ("P", True, "2026-10-21 07:00", "2026-10-21 09:00"),
    ("X", False, "2026-10-22 01:00", "2026-10-22 03:00"),
    ("E", False, "2026-10-23 09:40", "2026-10-23 11:00"),
    ("O", False, "2026-10-31 09:00", None),
]


def _ledger(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """insert into intake.submissions (submission_id, enterprise_id, ent_type, period, version, received_at,
               status, status_at)
           values (?, 'PAY0009', 'PAY', '2026-10', 1, ?, 'RECEIVED', ?)""",
        [SID, AT, AT],
    )
    # local time t = 2026-10-01 09:00 + day + 2-minute step; booked_at is stored in UTC (local - 8 h)
    con.execute(
        """insert into raw.transactions (submission_id, _row, enterprise_id, txn_id, event_id, leg, booked_at,
               value_date, amount, currency, amount_cny, channel, purpose, status)
           select ?, row_number() over (), 'PAY0009', 'T' || row_number() over (), 'E' || row_number() over (),
               'customer', timezone('Asia/Shanghai', t), cast(t as date), a, 'CNY', a, 'app', 'payment', 'ok'
           from (
               select timestamp '2026-10-01 06:00' + to_days(d) + to_minutes(2 * m) as t,
                   cast(10 + (d * 120 + m) % 9000 as decimal(20, 2)) as a
               from range(31) days(d), range(120) steps(m)
           )
           where not (t >= timestamp '2026-10-14 07:00' and t < timestamp '2026-10-14 09:00')
             and not (t >= timestamp '2026-10-20 07:00' and t < timestamp '2026-10-20 09:00'
                      and minute(t) % 4 = 2)""",
        [SID],
    )
    con.execute(
        """insert into raw.transactions (submission_id, _row, enterprise_id, txn_id, event_id, leg, booked_at,
               value_date, amount, currency, amount_cny, channel, purpose, status)
           select ?, 100000 + i, 'PAY0009', 'TF' || i, 'EF' || i, 'customer',
               timezone('Asia/Shanghai', timestamp '2026-10-16 07:10' + to_minutes(10 * i)), date '2026-10-16',
               50, 'CNY', 50, 'app', 'topup', 'failed'
           from range(3) r(i)""",
        [SID],
    )
    for n, (incident_id, planned, start, end) in enumerate(INCIDENTS, start=1):
        con.execute(
            """insert into raw.incidents (submission_id, _row, enterprise_id, incident_id, incident_type, planned,
                   started_at, ended_at, detected_at, reported_at, system, severity, customers_affected,
                   records_leaked, txns_failed)
               values (?, ?, 'PAY0009', ?, 'outage', ?, timezone('Asia/Shanghai', cast(? as timestamp)),
                   timezone('Asia/Shanghai', cast(? as timestamp)), timezone('Asia/Shanghai', cast(? as timestamp)),
                   null, 'core', 'minor', 0, 0, 0)""",
            [SID, n, incident_id, planned, start, end, start],
        )


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    create_schema(c)
    _ledger(c)
    yield c
    c.close()


def test_outages_the_ledger_does_not_show_are_found(con):
    run_quality_and_macro(con, [SID], found_at=AT)
    found = con.execute(
        """select record_key, fields from quality.findings where submission_id = ? and rule_id = 'M007'
           order by record_key""",
        [SID],
    ).fetchall()
    assert [key for key, _ in found] == ["B", "H", "N", "O"]
    values = {key: {f["field"]: f["value"] for f in json.loads(fields)} for key, fields in found}
    assert values["N"]["busy_minutes"] == "120" and values["B"]["busy_minutes"] == "120"
    assert (values["N"]["ok_customer_legs"], values["N"]["usual_legs"]) == ("60", "60.0")
    assert (values["H"]["ok_customer_legs"], values["H"]["usual_legs"]) == ("30", "60.0")
    assert (values["O"]["busy_minutes"], values["O"]["ok_customer_legs"]) == ("60", "30")
    assert values["N"]["failed_customer_legs"] == "0" and values["N"]["usual_failed_legs"] == "0.0"
    status = con.execute(
        "select status, finding_count from quality.rule_results where submission_id = ? and rule_id = 'M007'",
        [SID],
    ).fetchone()
    assert status == ("FAIL", 4)


def test_the_checked_in_busy_hours_sql_is_what_dbt_compiles_now():
    """The rule runs the compiled dbt macro; `make docs` regenerates it when the macro changes."""
    assert compiled_sql(BUSY_HOURS) == compile_macro(BUSY_HOURS), "stale: run `make docs`"
