"""The static period reports draw the portal's charts (issue 14: "the static period reports use the same
charts so the two never disagree"): for every chart a report and a portal page both show, the Vega-Lite spec
embedded in the report — its data included — is the one the portal page carries, compared as parsed JSON.
Both come from one function of pipelines/reports/charts.py with the same query; the reports load the same
vega scripts and renderer, copied into <reports>/assets/."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.home import Home
from pipelines.reports.chart_scripts import RENDERER, VENDOR_FILES
from pipelines.reports.quality_report import write_quality_report
from pipelines.reports.supervision_report import write_supervision_report
from pipelines.warehouse.db import connect_reader, snapshot_path
from tests.portal.conftest import PortalWorld

PERIOD = "2026-10"
CHART = re.compile(r'<div class="chart" data-vl="([^"]*)"></div>')


def specs(page: str) -> dict[str, dict[str, Any]]:
    """The chart specs of a page by title (the JSON in each chart element's data-vl attribute)."""
    found: dict[str, dict[str, Any]] = {}
    for attr in CHART.findall(page):
        spec = json.loads(html.unescape(attr))
        assert spec["title"] not in found, f"two charts titled {spec['title']!r}"
        found[spec["title"]] = spec
    return found


@pytest.fixture(scope="module")
def world(portal_world: PortalWorld, tmp_path_factory: pytest.TempPathFactory) -> PortalWorld:
    """A copy of the portal home where two rules found something in 2026-10 (the cycle over the spec's
    examples finds nothing), in both snapshots as a cycle would publish them."""
    root = tmp_path_factory.mktemp("charts") / "home"
    shutil.copytree(portal_world.home.root, root, symlinks=True)
    home = Home.resolve(root)
    for kind in ("analyst", "auditor"):
        con = duckdb.connect(str(snapshot_path(home, kind)))
        try:
            con.execute(
                "insert into marts.fct_rule_hit_rates (rule_id, stage, period, ent_type, submissions_evaluated, "
                "submissions_with_findings, hit_rate, findings_total, submissions_skipped) values "
                "('V004', 'validity', ?, 'PAY', 2, 1, 0.5, 3, 0), ('M003', 'macro', ?, 'P2P', 2, 2, 1.0, 2, 0)",
                [PERIOD, PERIOD],
            )
        finally:
            con.close()
    return PortalWorld(home, portal_world.tokens)


@pytest.fixture(scope="module")
def reports(world: PortalWorld, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The period's reports, written as the cycle writes them (from the published snapshot)."""
    out = tmp_path_factory.mktemp("reports")
    con = connect_reader(world.home)
    try:
        return {
            "supervision": write_supervision_report(con, out, PERIOD),
            "quality": write_quality_report(con, out, PERIOD),
        }
    finally:
        con.close()


def test_report_charts_are_the_portal_charts(world: PortalWorld, reports: dict[str, Path]) -> None:
    supervision = specs(reports["supervision"].read_text(encoding="utf-8"))
    quality = specs(reports["quality"].read_text(encoding="utf-8"))
    pages = {
        "auditor": world.client("aud").get(f"/auditor?period={PERIOD}"),
        "regulator": world.client("reg").get("/regulator"),
        "analyst": world.client("ana").get(f"/analyst?period={PERIOD}"),
        "reserves": world.client("ana").get(
            f"/analyst/indicators/RES-001?period={PERIOD}&metric=coverage_ratio_worst_day"
        ),
        "complaints": world.client("ana").get(
            f"/analyst/indicators/CPL-001?period={PERIOD}&metric=complaints_per_10k_customers"
        ),
    }
    portal = {}
    for name, res in pages.items():
        assert res.status_code == 200, (name, res.status_code)
        portal.update({f"{name}: {t}": s for t, s in specs(res.text).items()})

    pairs = [  # (report, title, portal page)
        (quality, f"Rules with findings in {PERIOD}: hit rate (share of submissions)", "auditor"),
        (supervision, "Alerts by family and severity", "analyst"),
        (supervision, f"Risk scores {PERIOD} over 2 enterprises", "regulator"),
        (supervision, f"Top 2 by risk score, {PERIOD}", "regulator"),
        (supervision, "RES-001 coverage_ratio_worst_day: distribution over 1 enterprises", "reserves"),
        (supervision, "CPL-001 complaints_per_10k_customers: distribution over 2 enterprises", "complaints"),
    ]
    for report, title, page in pairs:
        assert title in report, (title, sorted(report))
        assert f"{page}: {title}" in portal, (page, title, sorted(portal))
        assert report[title] == portal[f"{page}: {title}"], title
        values = report[title]["data"]["values"]
        assert values, f"{title}: a chart with no data proves nothing"
        measure = next(k for k in ("value", "score", "hit_rate", "alerts") if k in values[0])
        assert all(r[measure] is not None for r in values), (title, values)
    hits = quality[pairs[0][1]]["data"]["values"]
    assert {r["rule_id"] for r in hits} == {"M003", "V004"}
    assert [r["hit_rate"] for r in hits] == sorted((r["hit_rate"] for r in hits), reverse=True)


def test_reports_load_the_portals_scripts_from_beside_them(reports: dict[str, Path]) -> None:
    assets = reports["supervision"].parent.parent / "assets"
    for page in reports.values():
        text = page.read_text(encoding="utf-8")
        loaded = re.findall(r'<script src="([^"]+)"></script>', text)
        assert loaded == [f"../assets/{n}" for n in [*VENDOR_FILES, RENDERER.name]], loaded
        assert "http" not in "".join(loaded) and "<script>" not in text  # no CDN, no inline script
        for src in loaded:
            assert (page.parent / src).resolve().is_file(), src
    assert (assets / RENDERER.name).read_bytes() == RENDERER.read_bytes()
