"""`suptech report quality` on the tiny cycle: the auditor's page and the GX Data Docs it links to render in
headless chromium with the network blocked (no failed request, no script error); screenshots in
tests/artifacts/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.evaluate.detection import read_truth
from pipelines.reports.gx_docs import remote_references
from tests.browser import ARTIFACTS, render_offline

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def quality_report(tiny_cycle):
    truth = read_truth(tiny_cycle.truth_file)
    period = next(c["period"] for c in truth if c["class"] == "macro.bank_confirmation")
    result = CliRunner().invoke(
        cli, ["report", "quality", "--home", str(tiny_cycle.home.root), "--period", period, "--json"]
    )
    assert result.exit_code == 0, result.output
    paths = json.loads(result.output)
    return period, paths, truth


def test_quality_report_renders_offline(quality_report) -> None:
    period, paths, truth = quality_report
    result = render_offline(Path(paths["path"]), ARTIFACTS / "quality-report.png")
    assert result.ok, result.problems()
    for heading in (
        f"Filing quality report — {period}",
        "Submission status by enterprise",
        "Late and missing filings",
        "Rule hit rates",
        "Resubmission history",
        "Acknowledged warnings",
        "Open the Data Docs",
    ):
        assert heading in result.text, heading
    case = next(c for c in truth if c["class"] == "macro.bank_confirmation" and c["period"] == period)
    assert case["enterprise_id"] in result.text
    assert "Closing confirmed by the bank" in result.text  # M003's row in the hit-rate table


def test_gx_data_docs_render_offline(quality_report, tiny_cycle) -> None:
    _, paths, _ = quality_report
    site = tiny_cycle.home.reports / "gx_docs"
    assert remote_references(site) == []
    index = render_offline(Path(paths["gx_docs"]), ARTIFACTS / "gx-docs-index.png")
    assert index.ok, index.problems()
    assert "validity.transactions" in index.text or "transactions" in index.text
    page = next((site / "validations").rglob("*transactions*.html"))
    result = render_offline(page, ARTIFACTS / "gx-docs-transactions.png")
    assert result.ok, result.problems()
    assert "Expectation Validation Result" in result.text and "validity.transactions" in result.text
