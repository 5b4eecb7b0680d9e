"""The HTML edit report: ranked by rule, what to fix, examples capped, hostile values escaped, offline."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from pipelines.home import Home
from pipelines.intake.service import take_in
from pipelines.quality.catalog import load_catalog
from pipelines.reports import edit_report_html
from pipelines.reports.edit_report import write_edit_report
from pipelines.warehouse.db import connect_writer, writer_lock
from tests.support import copy_example, drop_package, refresh_manifest

PAY = "PAY0001-2026-10-v1"
HOSTILE = "<script>alert(1)</script>"


def _offline(html: str) -> None:
    for needle in ("http://", "https://", "<link", "src=", "@import", "<script"):
        assert needle not in html.lower(), needle


def test_broken_example_page(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path / "home").ensure()
    pkg = copy_example(PAY, tmp_path)
    t = pkg / "transactions.csv"
    s = t.read_text()
    s = s.replace(",2000.00,CNY,2000.00,card,top_up", f",2000.00,CNY,{HOSTILE},card,top_up", 1)
    t.write_text(s.replace(",1200.00,CNY,1200.00,", ',1200.00,CNY,"1,200.00",', 1))
    m = refresh_manifest(pkg)
    next(f for f in m["files"] if f["filing_type"] == "complaints")["row_count"] = 3
    (pkg / "manifest.json").write_text(json.dumps(m))
    drop_package(pkg, home.landing)
    with writer_lock(home), connect_writer(home) as con:
        take_in(con, home, clock=datetime(2026, 11, 21, tzinfo=UTC), backfill=True)
        write_edit_report(con, tmp_path / "out", PAY)
    html = (tmp_path / "out" / f"{PAY}.html").read_text(encoding="utf-8")
    # S015 (2 findings) ranks before S010 (1)
    assert html.index('id="S015"') < html.index('id="S010"')
    assert "S015 Parsable values" in html and ": 2 finding(s)</h2>" in html
    catalog = load_catalog()
    assert escape(catalog["S015"].fix) in html and escape(catalog["S010"].fix) in html
    assert escape(HOSTILE) in html and HOSTILE not in html
    assert '<span class="status MALFORMED">MALFORMED</span>' in html
    _offline(html)


def test_examples_are_capped_and_the_true_count_shown() -> None:
    catalog = load_catalog()
    rows = [
        {
            "rule_id": "V001",
            "filing_type": "parties",
            "row_number": i,
            "record_key": f"P{i}",
            "fields": json.dumps([{"field": "name", "value": None}]),
            "message": "name is required",
        }
        for i in range(1, 13)
    ]
    rows.append({**rows[0], "rule_id": "V004", "record_key": '"><img onerror=x>'})
    html = edit_report_html.render(
        PAY, ("REJECTED", "13 errors", "PAY0001", "2026-10"), {"V001": 1500}, rows, catalog
    )
    assert html.index('id="V001"') < html.index('id="V004"')
    assert "Examples (first 10 of 1500)" in html and "Examples (all 1)" in html
    assert html.count("<td>parties</td>") == 11  # 10 examples of V001 + 1 of V004
    assert escape(catalog["V001"].fix) in html
    # a rule without a fix text shows its description as what to fix
    bare = {**catalog, "V004": replace(catalog["V004"], fix="")}
    html2 = edit_report_html.render(PAY, None, {}, rows[-1:], bare)
    assert f"<b>What to fix:</b> {escape(catalog['V004'].description)}</div>" in html2
    assert "<img" not in html and "&lt;img onerror=x&gt;" in html
    _offline(html)
