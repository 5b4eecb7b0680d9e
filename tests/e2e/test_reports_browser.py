"""The cycle's HTML reports opened in headless chromium with the network blocked: no request leaves the
machine, no script error, and what a reader sees is the published snapshot's content - the period's
submissions by status, its alerts (counted by family and severity, listed, one drill-down each, the injected
reserve shortfall among them), its charts drawn - and dbt's docs show the real fct_alerts model (its
columns, the marts it reads, its SQL). Screenshots land in tests/artifacts/."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb
import pytest

from pipelines.evaluate.detection import read_truth
from tests.browser import ARTIFACTS, render_offline

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def _query(snapshot: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _table_after(lines: list[str], header: str) -> list[list[str]]:
    """The tab-separated rows of the rendered table whose header row is `header` (up to the first line that
    is no row of it)."""
    start = lines.index(header)
    width = header.count("\t") + 1
    rows = []
    for line in lines[start + 1 :]:
        cells = line.split("\t")
        if len(cells) != width:
            break
        rows.append(cells)
    return rows


def test_cycle_wrote_supervision_and_quality_reports_per_period(tiny_cycle) -> None:
    con = duckdb.connect(str(tiny_cycle.report.snapshot), read_only=True)
    try:
        periods = {r[0] for r in con.sql("select distinct period from intake.submissions").fetchall()}
    finally:
        con.close()
    for kind in ("supervision", "quality"):
        written = {p.stem for p in (tiny_cycle.home.reports / kind).glob("*.html")}
        assert written == periods, kind


def test_supervision_report_renders_offline_with_its_alerts(tiny_cycle) -> None:
    truth = read_truth(tiny_cycle.truth_file)
    shortfall = next(c for c in truth if c["class"] == "supervisory.reserve_shortfall")
    page = tiny_cycle.home.reports / "supervision" / f"{shortfall['period']}.html"
    charts = ("div.chart", "div.chart[data-rendered] svg")  # the portal's vega charts, drawn
    result = render_offline(
        page,
        ARTIFACTS / "supervision-report.png",
        wait_for="!document.querySelector('div.chart:not([data-rendered])')",
        count=charts,
    )
    assert result.ok, result.problems()
    assert result.counts[charts[0]] >= 5 and result.counts[charts[1]] == result.counts[charts[0]], (
        result.counts
    )
    period, text = shortfall["period"], result.text
    lines = [line.strip("\n") for line in text.split("\n")]
    assert f"Supervision report — period {period}" in result.title + text
    for heading in (
        "Enterprise risk ranking",
        "Reserve coverage",
        "Capital flow direction",
        "Complaint rates against peers",
        "Alerts and their evidence",
    ):
        assert heading in lines, heading

    snapshot = tiny_cycle.report.snapshot
    # the period's submissions by status, as intake.submissions has them
    statuses = _query(
        snapshot,
        "select status, count(*), count(distinct enterprise_id) from intake.submissions where period = ? "
        "group by 1",
        [period],
    )
    shown = _table_after(lines, "status\tsubmissions\tenterprises")
    assert sorted(shown) == sorted([s, str(n), str(e)] for s, n, e in statuses)

    # the period's alerts: their number, the counts by family and severity, one listing row and one
    # drill-down summary each
    alerts = _query(
        snapshot,
        "select enterprise_id, indicator_id, indicator_name, family, severity, metric, message "
        "from marts.fct_alerts where period = ?",
        [period],
    )
    assert len(alerts) >= 5
    assert f"{len(alerts)} alerts." in text
    by_family = Counter((a[3], a[4]) for a in alerts)
    header = next(line for line in lines if line.startswith("family\t"))
    severities = header.split("\t")[1:]
    assert sorted(severities) == sorted({a[4] for a in alerts})
    counts = {
        (row[0], sev): int(n)
        for row in _table_after(lines, header)
        for sev, n in zip(severities, row[1:], strict=True)
        if int(n)
    }
    assert counts == dict(by_family)
    listing = _table_after(
        lines,
        "enterprise_id\tindicator_id\tfamily\tseverity\tmetric\tdimension_value\tvalue\tthreshold\tmessage",
    )
    assert Counter((r[0], r[1], r[2], r[3], r[4], r[8]) for r in listing) == Counter(
        (a[0], a[1], a[3], a[4], a[5], a[6]) for a in alerts
    )
    summaries = [line for line in lines if " · " in line and line.split(" ", 1)[0] in ("BREACH", "WARN")]
    assert Counter(summaries) == Counter(f"{a[4]} {a[0]} · {a[1]} {a[2]}" for a in alerts)

    # the injected reserve shortfall: a RES-001 BREACH of its enterprise, its value below the threshold
    (row,) = [r for r in listing if (r[0], r[1]) == (shortfall["enterprise_id"], "RES-001")]
    assert row[3] == "BREACH" and float(row[6]) < float(row[7]), row
    assert f"BREACH {shortfall['enterprise_id']} · RES-001 Reserve coverage ratio" in summaries

    # the charts are drawn (their titles exist only in the drawn SVG, not in the page's text)
    enterprises = _query(
        snapshot,
        "select count(distinct enterprise_id) from marts.fct_risk_scores where period = ? and family = 'ALL'",
        [period],
    )[0][0]
    assert f"Risk scores {period} over {enterprises} enterprises" in lines
    (paying,) = _query(
        snapshot,
        "select count(distinct enterprise_id), count(distinct enterprise_id) filter (where status = 'BREACH') "
        "from marts.fct_indicator_values where period = ? and indicator_id = 'RES-001' "
        "and metric = 'coverage_ratio_worst_day'",
        [period],
    )
    assert f"RES-001 coverage_ratio_worst_day: distribution over {paying[0]} enterprises" in lines
    assert any(line.startswith(f"{paying[0]} enterprises, {paying[1]} in BREACH") for line in lines)


def test_dbt_docs_render_offline(tiny_cycle) -> None:
    page = tiny_cycle.home.reports / "dbt_docs" / "static_index.html"
    assert page.is_file(), "the cycle publishes dbt's static docs"
    model = "#!/model/model.suptech.fct_alerts"
    result = render_offline(
        page,
        ARTIFACTS / "dbt-docs.png",
        wait_ms=1500,
        # open the model's page (dbt docs is a single-page app routed by the URL fragment), then wait
        # until it shows its columns
        wait_for=f"(location.hash === '{model}' || !(location.hash = '{model}')) "
        "&& document.body.innerText.includes('Depends On')",
    )
    # dbt's own static page asks for unrendered template paths ("{{ getIcon(...) }}", "${require(...)}") as
    # local files; those fail harmlessly. Anything else (above all a remote asset) must not be requested.
    other = [u for u in result.failed_requests if not (u.startswith("file://") and "%7B" in u)]
    assert not other, other[:5]
    lines = [line.strip() for line in result.text.split("\n")]
    assert "suptech.marts.fct_alerts" in lines  # the relation of the model page
    # every column of the published table, in the model's column list
    columns = [
        c
        for (c,) in _query(
            tiny_cycle.report.snapshot,
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'fct_alerts' order by ordinal_position",
        )
    ]
    assert len(columns) > 10
    section = lines[lines.index("COLUMN\tTYPE\tDESCRIPTION\tCONSTRAINTS\tDATA TESTS\tMORE?") :]
    assert [c for c in columns if c in section] == columns
    # the marts it reads: every indicator mart of the generated list, under "Depends On"
    from pipelines.docs.indicators_doc import indicator_marts

    start = max(i for i, line in enumerate(lines) if line == "Depends On")  # the section, not the tab
    depends = lines[start : lines.index("Code", start)]
    missing = [m for m in indicator_marts() if m not in depends]
    assert not missing, missing
    # its SQL, as in the project
    sql = (ROOT / "dbt_project" / "models" / "marts" / "supervision" / "fct_alerts.sql").read_text(
        encoding="utf-8"
    )
    assert sql.splitlines()[0] in lines
