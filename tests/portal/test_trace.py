"""The auditor's trace from one indicator value to the rows it was computed from, their submission version and
the archived bytes (pipelines/portal/trace.py, /auditor/trace/value), on the portal home of conftest.py."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import re
from collections.abc import Iterator
from urllib.parse import quote

import duckdb
import pytest
from fastapi.testclient import TestClient

from pipelines.portal import trace
from pipelines.reference import seed_path
from pipelines.warehouse.db import connect_reader
from tests.portal.conftest import PAY, PAYLOAD, PortalWorld

VALUE = "/auditor/trace/value?enterprise=PAY0001&period=2026-10&indicator={}&metric={}"


@pytest.fixture(scope="module")
def clients(portal_world: PortalWorld) -> dict[str, TestClient]:
    return {"auditor": portal_world.client("aud"), "analyst": portal_world.client("ana")}


@contextlib.contextmanager
def auditor_snapshot(world: PortalWorld) -> Iterator[duckdb.DuckDBPyConnection]:
    """The auditor snapshot, closed before the next request (the portal opens the same file, locked)."""
    con = connect_reader(world.home, "auditor")
    try:
        yield con
    finally:
        con.close()


def one(world: PortalWorld, sql: str, params: list | None = None) -> tuple:
    with auditor_snapshot(world) as con:
        return con.execute(sql, params or []).fetchone()


def test_every_indicator_has_a_mart_and_its_filing_types_come_from_the_dbt_graph() -> None:
    with open(seed_path("indicators.csv"), encoding="utf-8") as f:
        ids = {r["indicator_id"] for r in csv.DictReader(f)}
    models = trace.indicator_models()
    assert ids <= set(models), sorted(ids - set(models))
    assert models["RES-001"] == "fct_reserve_coverage"
    assert {"account_balances", "accounts"} <= set(trace.filing_types("RES-001"))
    assert "complaints" in trace.filing_types("CPL-001")
    assert trace.filing_types("LIQ-001") == ["liquidity"]
    assert trace.filing_types("FQ-001") == []  # from intake records, no filed rows


def test_exact_rows_add_up_to_every_value_they_trace(portal_world: PortalWorld) -> None:
    """Every value of the indicators with a recipe, for both enterprises: each checked part's rows give the
    value row's numerator or denominator."""
    with auditor_snapshot(portal_world) as con:
        checked = _check_all(con)
    assert checked >= 20, checked


def _check_all(auditor_con: duckdb.DuckDBPyConnection) -> int:
    values = auditor_con.execute(
        "select enterprise_id, period, indicator_id, metric, cast(as_of_date as varchar), dimension, dimension_value "
        "from marts.fct_indicator_values where value is not null order by all"
    ).fetchall()
    checked = 0
    for ent, period, ind, metric, day, dim, dim_value in values:
        if (ind, metric) not in trace.RECIPES:
            continue
        t = trace.trace(auditor_con, ent, period, ind, metric, day, dim, dim_value)
        assert t.exact, (ind, metric, day)
        for part in t.parts:
            assert len(part.raw_rows) == min(part.rows, trace.ROW_LIMIT)
            if part.check:
                assert part.check["ok"], (ent, period, ind, metric, day, dim_value, part.label, part.check)
                checked += 1
        if any(part.rows for part in t.parts):  # an outflow of 0 has no legs, hence no version
            assert t.versions and all(v["is_current"] for v in t.versions)
    return checked


def test_auditor_follows_a_value_to_its_rows_and_archived_bytes(
    portal_world: PortalWorld, clients: dict[str, TestClient]
) -> None:
    aud = clients["auditor"]
    listing = aud.get("/auditor/trace?enterprise=PAY0001&indicator=RES-001&period=2026-10").text
    links = re.findall(r'class="rows-behind" href="([^"]+)"', listing)
    assert links and all("/auditor/trace/value?" in link for link in links)
    (day,) = one(
        portal_world,
        "select cast(min(as_of_date) as varchar) from marts.fct_indicator_values "
        "where enterprise_id = 'PAY0001' and period = '2026-10' and indicator_id = 'RES-001' "
        "and metric = 'coverage_ratio'",
    )
    page = aud.get(VALUE.format("RES-001", "coverage_ratio") + f"&day={day}")
    assert page.status_code == 200, page.text[:300]
    text = page.text
    assert 'id="trace-note" class="exact"' in text and "DO NOT MATCH" not in text
    assert text.count("they match") == 3  # the numerator, and the denominator's openings and legs
    assert PAY in text and "archive/PAY0001/" + PAY in text
    # the archived file of the rows: its recorded sha256 is on the page, and the download gives those bytes
    sha, path = one(
        portal_world,
        "select sha256, path from intake.files where submission_id = ? and filing_type = 'account_balances'",
        [PAY],
    )
    assert sha in text
    assert f'href="/auditor/archive/{PAY}/{quote(path, safe="")}"' in text
    archived = aud.get(f"/auditor/archive/{PAY}/{quote(path, safe='')}")
    assert archived.status_code == 200 and hashlib.sha256(archived.content).hexdigest() == sha
    # the raw rows on the page are rows of that file: each listed account's row is in the archived CSV
    rows = list(csv.DictReader(io.StringIO(archived.content.decode("utf-8"))))
    numerator = text[text.index('<section class="trace-part"') :]
    numerator = numerator[: numerator.index("</section>")]
    assert "numerator" in numerator and "they match" in numerator
    listed = re.findall(r"<td>(\d+)</td><td>PAY0001</td>", numerator)  # _row, enterprise_id (raw rows)
    assert listed and all(rows[int(r) - 1]["biz_date"] == day for r in listed)

    # a monthly roll-up: the rows of the day it was taken from
    worst = aud.get(VALUE.format("RES-001", "coverage_ratio_worst_day")).text
    assert 'id="trace-day"' in worst and "they match" in worst


def test_complaint_rows_are_exact_and_render_inert(clients: dict[str, TestClient]) -> None:
    text = clients["auditor"].get(VALUE.format("CPL-001", "complaints_per_10k_customers")).text
    assert 'class="exact"' in text and text.count("they match") == 2
    assert PAYLOAD not in text and "&lt;script&gt;" in text  # the filed <script> payload, escaped


def test_other_indicators_say_the_rows_are_the_whole_filing(clients: dict[str, TestClient]) -> None:
    text = clients["auditor"].get(VALUE.format("AML-003", "parties_flagged")).text
    assert 'id="trace-note" class="whole-filing"' in text and "Whole filings, not the exact rows." in text
    assert "the whole transactions filing" in text and "they match" not in text


def test_value_trace_is_for_auditors_and_known_values(clients: dict[str, TestClient]) -> None:
    url = VALUE.format("CPL-001", "complaints_per_10k_customers")
    assert clients["analyst"].get(url).status_code == 403
    assert clients["auditor"].get(VALUE.format("CPL-001", "nope")).status_code == 404
