"""The supervision report on a hand-made snapshot: sections, drill-down evidence, links, its charts (the
portal's Vega-Lite specs, pipelines/reports/charts.py) and the scripts it loads from beside it."""

from __future__ import annotations

import html as html_lib
import json
import re
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.home import Home
from pipelines.reports.supervision_report import render_supervision_report

VALUE_COLS = (
    "enterprise_id varchar, period varchar, indicator_id varchar, metric varchar, as_of_date date, "
    "dimension varchar, dimension_value varchar, value double, numerator double, denominator double, "
    "threshold double, status varchar, computed_at timestamptz"
)


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    return make_snapshot(tmp_path / "home" / "published" / "suptech.duckdb")


def make_snapshot(path: Path) -> Path:
    """Two PAY enterprises in 2026-10 (2026-09 history for one), a RES-001 BREACH and an AML-003 WARN."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("create schema marts; create schema seeds; create schema intake")
    con.execute(
        "create table seeds.indicators as select * from (values ('RES-001', 'RES', 'Reserve coverage ratio'), "
        "('AML-003', 'AML', 'Pass-through account'), ('CPL-001', 'CPL', 'Complaint rate')) t(indicator_id, family, name)"
    )
    con.execute(
        "create table intake.submissions as select * from (values ('s1', 'PAY0001', 'PAY', '2026-10', 'ACCEPTED'), "
        "('s2', 'PAY0002', 'PAY', '2026-10', 'ACCEPTED'), ('s3', 'PAY0002', 'PAY', '2026-10', 'REJECTED')) "
        "t(submission_id, enterprise_id, ent_type, period, status)"
    )
    con.execute(f"create table marts.fct_indicator_values ({VALUE_COLS})")
    con.execute(
        "insert into marts.fct_indicator_values values "
        "('PAY0001', '2026-09', 'RES-001', 'coverage_ratio_worst_day', null, null, null, 1.05, 105, 100, 1, 'OK', now()),"
        "('PAY0001', '2026-10', 'RES-001', 'coverage_ratio_worst_day', null, null, null, 0.9, 90, 100, 1, 'BREACH', now()),"
        "('PAY0001', '2026-10', 'RES-001', 'coverage_ratio', '2026-10-07', null, null, 0.9, 90, 100, 1, 'BREACH', now()),"
        "('PAY0001', '2026-10', 'RES-001', 'coverage_ratio', '2026-10-08', null, null, 1.1, 110, 100, 1, 'OK', now()),"
        "('PAY0002', '2026-10', 'RES-001', 'coverage_ratio_worst_day', null, null, null, 1.2, 120, 100, 1, 'OK', now()),"
        "('PAY0001', '2026-10', 'CPL-001', 'complaints_per_10k_customers', null, null, null, 12, 12, 10000, null, 'OK', now()),"
        "('PAY0002', '2026-10', 'CPL-001', 'complaints_per_10k_customers', null, null, null, 4, 4, 10000, null, 'OK', now()),"
        "('PAY0002', '2026-10', 'AML-003', 'parties', null, null, null, 1, 1, null, null, 'WARN', now())"
    )
    con.execute(
        "create table marts.fct_alerts as select * from (values "
        "('a1', 'PAY0001', '2026-10', 'RES-001', 'Reserve coverage ratio', 'RES', 'coverage_ratio_worst_day', null, null, 'BREACH', 0.9, 1.0, 'RES-001 coverage 0.9 BREACH', 'worst day 2026-10-07'),"
        "('a2', 'PAY0002', '2026-10', 'AML-003', 'Pass-through account', 'AML', 'parties', null, null, 'WARN', 1.0, null, 'AML-003 <pass-through> WARN', 'party P9')) "
        "t(alert_id, enterprise_id, period, indicator_id, indicator_name, family, metric, dimension, dimension_value, severity, value, threshold, message, evidence)"
    )
    con.execute(
        "create table marts.fct_aml_evidence as select 'PAY0002' as enterprise_id, '2026-10' as period, "
        "'AML-003' as indicator_id, 'P9' as party_id, 'TXN-77' as txn_id, 60000.0 as amount_cny, now() as computed_at"
    )
    con.close()
    return path


def render(snapshot: Path, *setup: str) -> str:
    """The 2026-10 report of `snapshot` after the `setup` statements (tables a test adds), read only."""
    if setup:
        with duckdb.connect(str(snapshot)) as con:
            for sql in setup:
                con.execute(sql)
    with duckdb.connect(str(snapshot), read_only=True) as con:
        return render_supervision_report(con, "2026-10")


@pytest.fixture
def html(snapshot: Path) -> str:
    return render(snapshot)


def test_every_alert_links_to_a_drilldown_with_its_evidence_rows(html: str) -> None:
    assert "href='#alert-a1'" in html and "href='#alert-a2'" in html
    a1 = re.search(r"<details id='alert-a1'>(.*?)</details>", html, re.S).group(1)
    assert "worst day 2026-10-07" in a1
    assert "2026-10-07" in a1 and "2026-10-08" not in a1  # only the breaching daily row
    a2 = re.search(r"<details id='alert-a2'>(.*?)</details>", html, re.S).group(1)
    assert "TXN-77" in a2 and "marts.fct_aml_evidence" in a2
    assert "&lt;pass-through&gt;" in html and "<pass-through>" not in html


def chart_specs(html: str) -> dict[str, dict]:
    return {
        s["title"]: s
        for s in (
            json.loads(html_lib.unescape(a))
            for a in re.findall(r'<div class="chart" data-vl="([^"]*)">', html)
        )
    }


def test_sections_and_charts_follow_the_data(html: str) -> None:
    # submissions by status of the period, alerts by family, ranking by alerts (no risk score mart)
    assert re.search(r"<td>ACCEPTED</td><td class='num'>2</td><td class='num'>2</td>", html)
    assert "ranked by alerts" in html
    assert "Complaint rates against peers" in html
    assert "Overdue buckets (CRD-001): no data for this period." in html
    assert "<h3 id='family-RES'>RES</h3>" in html and "<h3 id='family-AML'>AML</h3>" in html
    charts = chart_specs(html)
    # distributions over the enterprises, never one bar per enterprise; the threshold is a rule layer
    reserves = charts["RES-001 coverage_ratio_worst_day: distribution over 2 enterprises"]
    assert sorted(v["value"] for v in reserves["data"]["values"]) == [0.9, 1.2]
    assert reserves["layer"][1]["data"]["values"] == [{"threshold": 1.0}]
    assert "CPL-001 complaints_per_10k_customers: distribution over 2 enterprises" in charts
    by_family = charts["Alerts by family and severity"]["data"]["values"]
    assert by_family == [
        {"family": "AML", "severity": "WARN", "alerts": 1},
        {"family": "RES", "severity": "BREACH", "alerts": 1},
    ]
    assert charts["AML alerts by typology, 2026-10"]["data"]["values"] == [
        {"typology": "AML-003 Pass-through account", "severity": "WARN", "alerts": 1}
    ]
    assert "AML alerts by typology and period" in charts


def test_links_and_self_containment(html: str) -> None:
    assert "href='../quality/2026-10.html'" in html and "href='../dbt_docs/static_index.html'" in html
    assert "<link" not in html and "<script>" not in html  # no stylesheet, no inline script
    scripts = re.findall(r'<script src="([^"]+)"></script>', html)
    assert scripts and scripts[-1] == "../assets/charts.js"
    assert all(s.startswith("../assets/") for s in scripts)
    # the only URL is Vega-Lite's $schema, an identifier that is never fetched
    assert "http" not in html.replace("https://vega.github.io/schema/vega-lite/v6.json", "")


def test_cli_writes_the_report_under_home(snapshot: Path) -> None:
    home = Home(snapshot.parent.parent)
    result = CliRunner().invoke(
        cli, ["report", "supervision", "--home", str(home.root), "--period", "2026-10"]
    )
    assert result.exit_code == 0, result.output
    assert (home.reports / "supervision" / "2026-10.html").is_file()
    bad = CliRunner().invoke(cli, ["report", "supervision", "--home", str(home.root), "--period", "2026-13"])
    assert bad.exit_code == 2


def test_risk_ranking_uses_the_composite_score_with_family_scores(snapshot: Path) -> None:
    html = render(
        snapshot,
        "create table marts.fct_risk_scores as select * from (values "
        "('PAY0001', '2026-10', 'ALL', 10.0, null, 1, 0), ('PAY0001', '2026-10', 'RES', null, 100.0, 1, 0), "
        "('PAY0002', '2026-10', 'ALL', 45.0, null, 0, 1), ('PAY0002', '2026-10', 'AML', null, 30.0, 0, 1)) "
        "t(enterprise_id, period, family, score, family_score, breaches, warnings)",
    )
    section = html[html.index("<h2 id='risk'>") : html.index("<h2 id='reserves'>")]
    assert "ranked by alerts" not in section
    header = re.search(r"<table><tr>(.*?)</tr>", section).group(1)
    assert re.findall(r"<th>(.*?)</th>", header) == [
        "enterprise_id",
        "score",
        "breaches",
        "warnings",
        "AML",
        "RES",
    ]
    rows = re.findall(r"<tr><td>(PAY000\d)</td><td class='num'>([\d.]+)</td>", section)
    assert rows == [("PAY0002", "45"), ("PAY0001", "10")]


def test_aml_parties_to_open_first_rank_by_score_across_filers(snapshot: Path) -> None:
    html = render(
        snapshot,
        "create table marts.fct_aml_party_risk as select * from (values "
        # P9 named by one typology (10) + 2 outliers = 12; Q1 only unusual: 3 + 1 = 4; Q2 score 0 (unranked);
        # P5 in another period
        "('PAY0002', '2026-10', 'P9', 40, 'AML-003', 1, 2, 0, 2, 1, 12, 1), "
        "('PAY0001', '2026-10', 'Q1', 300, null, 0, 0, 3, 1, 0, 4, 1), "
        "('PAY0001', '2026-10', 'Q2', 500, null, 0, 0, 0, 0, 0, 0, null), "
        "('PAY0001', '2026-09', 'P5', 5, 'AML-002', 1, 1, 0, 0, 1, 10, 1)) "
        "t(enterprise_id, period, party_id, legs, typology_ids, typologies, typology_txns, "
        "unreported_large_value, amount_outliers, alerts, score, risk_rank)",
    )
    section = html[html.index("<h3 id='aml-parties'>") : html.index("<h2 id='families'>")]
    rows = re.findall(
        r"<tr><td>(PAY000\d)</td><td>(\w+)</td><td class='num'>(\d+)</td><td class='num'>(\d+)</td>", section
    )
    assert rows == [("PAY0002", "P9", "1", "12"), ("PAY0001", "Q1", "1", "4")]
    assert "Q2" not in section and "P5" not in section
    assert "marts.fct_aml_party_signals" in section
