"""The cycle's HTML reports opened in headless chromium with the network blocked: content visible, no request
leaves the machine, no script error. Screenshots land in tests/artifacts/."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.evaluate.detection import read_truth
from tests.browser import ARTIFACTS, render_offline

pytestmark = pytest.mark.e2e


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
    assert f"Supervision report — period {shortfall['period']}" in result.title + result.text
    for heading in (
        "Alerts by family and severity",
        "Enterprise risk ranking",
        "Reserve coverage",
        "Capital flow direction",
        "Complaint rates against peers",
        "Alerts and their evidence",
    ):
        assert heading in result.text, heading
    assert shortfall["enterprise_id"] in result.text  # the injected breach is listed
    assert "RES-001" in result.text


def test_dbt_docs_render_offline(tiny_cycle) -> None:
    page = tiny_cycle.home.reports / "dbt_docs" / "static_index.html"
    assert page.is_file(), "the cycle publishes dbt's static docs"
    result = render_offline(page, ARTIFACTS / "dbt-docs.png", wait_ms=1500)
    # dbt's own static page asks for unrendered template paths ("{{ getIcon(...) }}", "${require(...)}") as
    # local files; those fail harmlessly. Anything else (above all a remote asset) must not be requested.
    other = [u for u in result.failed_requests if not (u.startswith("file://") and "%7B" in u)]
    assert not other, other[:5]
    assert "fct_alerts" in result.text or "suptech" in result.text.lower()
