"""CFPB complaints mapping (cfpb.yml, pipelines.mappings.convert: kind complaints) and D4: a hand-made slice of
six complaints becomes one package per company and month holding the complaints received in it or still open
at its start, all ACCEPTED; the dates follow the CFPB's own clock (received = the day sent to the company,
closed the same day when "Timely response?" is Yes, 16 days later when No); CPL-001 counts and CPL-002 per
company and month equal the independent computation from the raw file, with every figure worked by hand."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import duckdb
import pytest

from pipelines.cycle import validate_and_decide
from pipelines.home import Home
from pipelines.intake.service import take_in
from pipelines.mappings.compare import (
    compare,
    compare_timeliness,
    complaints_from_raw,
    complaints_from_warehouse,
    timeliness_confusion,
    timeliness_from_raw,
    timeliness_from_warehouse,
)
from pipelines.mappings.convert import map_dataset
from pipelines.warehouse.db import connect_writer, writer_lock

CLOCK = datetime(2027, 1, 1, tzinfo=UTC)
HEADER = (
    "Date received,Product,Sub-product,Issue,Sub-issue,Consumer complaint narrative,Company public response,"
    "Company,State,ZIP code,Tags,Consumer consent provided?,Submitted via,Date sent to company,"
    "Company response to consumer,Timely response?,Consumer disputed?,Complaint ID"
)
# Date received, Company, Submitted via, Company response, Date sent to company, Timely response?, Complaint ID
ROWS = [
    # sent 03-05, timely: received and closed 2019-03-05 (0 days)
    ("2019/3/4", "ACME BANK", "Web", "Closed with explanation", "2019/3/5", "Yes", "101"),
    # sent 03-20, untimely: closed 03-20 + 16 = 04-05; open at the end of March, closed in April's package
    ("2019/3/10", "ACME BANK", "Referral", "Closed with monetary relief", "2019/3/20", "No", "102"),
    # the CFPB took 52 days to send it; the company answered in time: received and closed 03-25
    ("2019/2/1", "ACME BANK", "Phone", "Closed with explanation", "2019/3/25", "Yes", "103"),
    # still in progress: open from 04-02 to the extract's last month (2019-06): 89 days at 06-30
    ("2019/4/1", "ACME BANK", "Web", "In progress", "2019/4/2", "Yes", "104"),
    # no response in time: closed 03-09 + 16 = 03-25, untimely
    ("2019/3/9", "ZED LENDING, INC.", "Web", "Untimely response", "2019/3/9", "No", "201"),
    ("2019/6/28", "ZED LENDING, INC.", "Web", "Closed with non-monetary relief", "2019/6/28", "Yes", "202"),
]
# companies by name: ACME BANK -> PAY5000, ZED LENDING -> PAY5001
PACKAGES = [
    "PAY5000-2019-03-v1",
    "PAY5000-2019-04-v1",
    "PAY5000-2019-05-v1",
    "PAY5000-2019-06-v1",
    "PAY5001-2019-03-v1",
    "PAY5001-2019-06-v1",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    from pipelines.dbt_runner import run_dbt

    root = tmp_path_factory.mktemp("cfpb")
    data = root / "data" / "cfpb_complaints"
    data.mkdir(parents=True)
    lines = [HEADER] + [
        f'{d},Mortgage,,Servicing,,,,"{c}",NY,100XX,,,{via},{sent},{resp},{timely},N/A,{cid}'
        for d, c, via, resp, sent, timely, cid in ROWS
    ]
    (data / "complaints_sample_2015_2020.csv.gz").write_bytes(
        gzip.compress(("\n".join(lines) + "\n").encode())
    )
    home = Home.resolve(root / "home").ensure()
    result = map_dataset("cfpb", root / "data", home.landing)
    with writer_lock(home), connect_writer(home) as con:
        take_in(con, home, clock=CLOCK, backfill=True)
        decided = validate_and_decide(con, home, CLOCK, backfill=True)
        con.execute("checkpoint")
    # seeds and the two complaint marts only: the seeds' relationship tests would reach into every mart
    args = [
        "build",
        "--select",
        "+fct_complaint_rate",
        "+fct_complaint_timeliness",
        "--resource-type",
        "seed",
        "--resource-type",
        "model",
    ]
    ran = run_dbt(args, warehouse=home.warehouse, as_of=CLOCK, target_dir=root / "t")
    assert ran.success, ran.summary()
    return home, root / "data", result, decided


def test_one_accepted_package_per_company_and_month_open_complaints_carried(built) -> None:
    _, _, result, decided = built
    assert result.packages == PACKAGES
    assert result.rows == 6
    assert decided == dict.fromkeys(PACKAGES, "ACCEPTED")


def test_dates_follow_the_cfpb_clock_and_open_complaints_are_carried(built) -> None:
    home, _, _, _ = built
    con = duckdb.connect(str(home.warehouse), read_only=True)
    rows = con.execute(
        """
        select split_part(submission_id, '-', 1) || ' ' || substr(submission_id, 9, 7), complaint_id,
            strftime(received_at at time zone 'Asia/Shanghai', '%Y-%m-%d %H:%M'),
            strftime(closed_at at time zone 'Asia/Shanghai', '%Y-%m-%d %H:%M'), resolution
        from raw.complaints order by submission_id, complaint_id
        """
    ).fetchall()
    con.close()
    assert rows == [
        ("PAY5000 2019-03", "101", "2019-03-05 09:00", "2019-03-05 18:00", "explanation"),
        ("PAY5000 2019-03", "102", "2019-03-20 09:00", None, "in_progress"),
        ("PAY5000 2019-03", "103", "2019-03-25 09:00", "2019-03-25 18:00", "explanation"),
        # the untimely 102 closes 16 days after it was sent, in the next month's package
        ("PAY5000 2019-04", "102", "2019-03-20 09:00", "2019-04-05 18:00", "monetary"),
        ("PAY5000 2019-04", "104", "2019-04-02 09:00", None, "in_progress"),
        ("PAY5000 2019-05", "104", "2019-04-02 09:00", None, "in_progress"),
        ("PAY5000 2019-06", "104", "2019-04-02 09:00", None, "in_progress"),
        ("PAY5001 2019-03", "201", "2019-03-09 09:00", "2019-03-25 18:00", "explanation"),
        ("PAY5001 2019-06", "202", "2019-06-28 09:00", "2019-06-28 18:00", "non_monetary"),
    ]


def test_d4_complaints_per_company_and_month_match_the_raw_file(built) -> None:
    home, data, _, _ = built
    con = duckdb.connect(str(home.warehouse), read_only=True)
    both = compare(complaints_from_warehouse(con), complaints_from_raw(data))
    con.close()
    # by the month the company received them (sent): 103, received by the CFPB in February, counts in March;
    # the months filed only for the open 104 received none
    assert both.select("company", "period", "complaints_raw", "complaints_warehouse").rows() == [
        ("ACME BANK", "2019-03", 3, 3),
        ("ACME BANK", "2019-04", 1, 1),
        ("ACME BANK", "2019-05", 0, 0),
        ("ACME BANK", "2019-06", 0, 0),
        ("ZED LENDING, INC.", "2019-03", 1, 1),
        ("ZED LENDING, INC.", "2019-06", 1, 1),
    ]
    assert both["match"].all()


def test_d4_cpl002_equals_the_cfpb_timely_flag(built) -> None:
    home, data, _, _ = built
    con = duckdb.connect(str(home.warehouse), read_only=True)
    both = compare_timeliness(timeliness_from_warehouse(con), timeliness_from_raw(data))
    statuses = con.execute(
        "select enterprise_id, period, metric, status from marts.fct_complaint_timeliness "
        "where status in ('WARN', 'BREACH') order by 1, 2, 3"
    ).fetchall()
    con.close()
    cols = ["company", "period", "closed_raw", "timely_raw", "open_over_raw", "closed_warehouse"]
    cols += ["timely_warehouse", "open_over_warehouse", "warn", "breach"]
    assert both.select(cols).rows() == [
        ("ACME BANK", "2019-03", 2, 2, 0, 2, 2, 0, False, False),  # 101, 103 in time
        ("ACME BANK", "2019-04", 1, 0, 0, 1, 0, 0, True, False),  # 102: 16 days
        ("ACME BANK", "2019-06", 0, 0, 1, 0, 0, 1, False, True),  # 104 open 89 days at 06-30
        ("ZED LENDING, INC.", "2019-03", 1, 0, 0, 1, 0, 0, True, False),  # 201: 16 days
        ("ZED LENDING, INC.", "2019-06", 1, 1, 0, 1, 1, 0, False, False),
    ]
    assert both["match"].all()
    assert statuses == [
        ("PAY5000", "2019-04", "closed_within_deadline_rate", "WARN"),
        ("PAY5000", "2019-06", "open_over_max_days", "BREACH"),
        ("PAY5001", "2019-03", "closed_within_deadline_rate", "WARN"),
    ]
    assert timeliness_confusion(both) == {
        "company_months": 4,
        "warn_and_cfpb_below": 2,
        "warn_cfpb_not_below": 0,
        "no_warn_cfpb_below": 0,
        "no_warn_cfpb_not_below": 2,
        "warn_and_cfpb_untimely_any": 2,
        "warn_cfpb_all_timely": 0,
        "no_warn_cfpb_untimely_any": 0,
        "no_warn_cfpb_all_timely": 2,
    }


def test_an_unknown_timely_flag_on_a_closed_complaint_stops_the_mapping(tmp_path) -> None:
    data = tmp_path / "data" / "cfpb_complaints"
    data.mkdir(parents=True)
    d, c, via, resp, sent, _, cid = ROWS[0]
    line = f'{d},Mortgage,,Servicing,,,,"{c}",NY,100XX,,,{via},{sent},{resp},,N/A,{cid}'
    (data / "complaints_sample_2015_2020.csv.gz").write_bytes(gzip.compress(f"{HEADER}\n{line}\n".encode()))
    with pytest.raises(ValueError, match="Timely response"):
        map_dataset("cfpb", tmp_path / "data", tmp_path / "landing")
