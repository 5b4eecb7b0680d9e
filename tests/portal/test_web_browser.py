"""Each role's journey through the portal in headless chromium (Debian's, `make setup-browser`), against the
shared portal home (conftest.py) served by uvicorn on a free port of 127.0.0.1 started here.

Every request leaving 127.0.0.1 is aborted and fails the test (no CDN), and so does any console error (a CSP
violation, a chart that does not render). Screenshots land in tests/artifacts/portal-*.png. The filer's
journey runs last: it runs two short cycles (no marts) to take in its uploads.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from pipelines.cycle import run_cycle
from pipelines.portal.api import create_app
from tests.browser import ARTIFACTS, CHROMIUM_FLAGS, chromium_path
from tests.portal.conftest import AS_OF, PASSWORD, PAY, PortalWorld
from tests.portal.helpers import zip_folder
from tests.support import copy_example, refresh_manifest

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(portal_world: PortalWorld) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        create_app(portal_world.home), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS)
        yield b
        b.close()


class Problems(list):
    def check(self) -> None:
        assert not self, list(self)


@contextmanager
def signed_in(browser, base: str, username: str) -> Iterator[tuple[object, Problems]]:
    """A fresh browser context signed in through the login form; yields (page, problems)."""
    problems = Problems()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)

    def only_local(route) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:
            problems.append(f"blocked remote request {route.request.url}")
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    try:
        page.goto(f"{base}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("load")
        assert "/login" not in page.url, page.inner_text("body")[:300]
        yield page, problems
    finally:
        context.close()


def charts_rendered(page) -> None:
    total = page.locator("div.chart").count()
    if total:
        page.wait_for_function(
            "() => document.querySelectorAll('div.chart[data-rendered]').length === "
            "document.querySelectorAll('div.chart').length",
            timeout=20_000,
        )


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"portal-{name}.png"), full_page=True)


def test_analyst_reaches_evidence_rows_in_two_clicks(server, browser) -> None:
    with signed_in(browser, server, "ana") as (page, problems):
        charts_rendered(page)
        shot(page, "analyst-alerts")
        page.click("#alerts a:text('PAY0001')")  # click 1: the enterprise with a breach
        page.wait_for_load_state("load")
        assert "PAY0001" in page.inner_text("h1")
        charts_rendered(page)
        shot(page, "analyst-enterprise")
        breach = page.locator("#enterprise-alerts tr", has_text="RES-001")
        breach.locator("a:text('evidence rows')").click()  # click 2: the alert's evidence
        page.wait_for_load_state("load")
        assert page.locator("#evidence-rows").is_visible()
        body = page.inner_text("body")
        assert "BREACH" in body and "coverage_ratio" in body
        shot(page, "analyst-evidence")
        page.goto(f"{server}/analyst/indicators/RES-001")
        charts_rendered(page)
        assert page.locator("div.chart svg").count() >= 2
        shot(page, "analyst-indicator")
        problems.check()


def test_auditor_traces_a_value_to_the_archived_file(server, browser, portal_world: PortalWorld) -> None:
    with signed_in(browser, server, "aud") as (page, problems):
        charts_rendered(page)
        shot(page, "auditor-quality")
        page.click("nav a:text('Trace')")
        page.select_option("select[name=enterprise]", "PAY0001")
        page.select_option("select[name=indicator]", "RES-001")
        page.select_option("select[name=period]", "2026-10")
        page.click("form.filters button[type=submit]")
        page.wait_for_load_state("load")
        assert PAY in page.inner_text("#trace-submission")
        shot(page, "auditor-trace")
        row = page.locator("#trace-files tr", has_text="complaints.csv")
        with page.expect_download() as info:
            row.locator("a.archived").click()
        download = info.value
        archived = portal_world.home.root / "archive" / "PAY0001" / PAY / "1" / "complaints.csv"
        assert Path(download.path()).read_bytes() == archived.read_bytes()
        # one value -> the exact rows it was computed from -> their archived file, digest checked
        page.locator("#trace-values a.rows-behind", has_text="rows behind it").first.click()
        page.wait_for_load_state("load")
        assert "Exact rows." in page.inner_text("#trace-note")
        assert "they match" in page.inner_text(".trace-part .check")
        shot(page, "auditor-trace-value")
        row = page.locator("#trace-value-files tr", has_text="account_balances")
        sha = row.locator("td code").nth(1).inner_text()
        with page.expect_download() as info:
            row.locator("a.archived").click()
        assert hashlib.sha256(Path(info.value.path()).read_bytes()).hexdigest() == sha
        page.click("nav a:text('Audit log')")
        page.wait_for_load_state("load")
        assert "Verified" in page.inner_text("#intake-verified")
        assert "Verified" in page.inner_text("#access-verified")
        problems.check()


def test_regulator_sees_a_missing_filer(server, browser) -> None:
    with signed_in(browser, server, "reg") as (page, problems):
        page.select_option("form.filters select[name=period]", "2026-11")
        page.click("form.filters button[type=submit]")
        page.wait_for_load_state("load")
        charts_rendered(page)
        missing = page.locator("#calendar tr.missing")
        assert missing.count() == 2
        assert "P2P0001" in missing.all_inner_texts()[0] + missing.all_inner_texts()[1]
        assert "missing 2" in page.inner_text("#calendar-counts")
        assert page.locator("#dagster-link").get_attribute("href").startswith("http://127.0.0.1:")
        shot(page, "regulator")
        problems.check()


def _package(tmp: Path, version: int, supersedes: str, corrupt: bool) -> Path:
    sid = f"PAY0001-2026-10-v{version}"
    folder = copy_example(PAY, tmp / f"src{version}")
    folder = folder.rename(folder.parent / sid)
    refresh_manifest(folder, submission_id=sid, version=version, supersedes=supersedes)
    if corrupt:  # bytes changed after the manifest was written: the sha256 no longer matches
        with open(folder / "complaints.csv", "a", encoding="utf-8") as fh:
            fh.write("PAY0001,C9,2026-10-09T10:00:00+08:00,own,P1,wallet payment,late,1.00,,0,,false,false\n")
    archive = tmp / f"{sid}.zip"
    archive.write_bytes(zip_folder(folder))
    return archive


def _upload(page, archive: Path) -> None:
    page.set_input_files("#package", str(archive))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/filer/submissions/**")
    assert "UPLOADED" in page.inner_text("#current-status")


def test_filer_uploads_malformed_then_corrected(server, browser, portal_world: PortalWorld, tmp_path) -> None:
    home = portal_world.home
    with signed_in(browser, server, "filer-a") as (page, problems):
        shot(page, "filer-home")
        _upload(page, _package(tmp_path, 2, PAY, corrupt=True))
        run_cycle(home, as_of=AS_OF, build_marts=False)
        page.reload()
        assert page.inner_text("#current-status") == "MALFORMED"
        reason = page.inner_text("#status-reason")
        assert "sha256" in reason.lower() or "complaints.csv" in reason, reason
        shot(page, "filer-malformed")
        page.goto(f"{server}/filer")
        _upload(page, _package(tmp_path, 3, "PAY0001-2026-10-v2", corrupt=False))
        run_cycle(home, as_of=AS_OF, build_marts=False)
        page.reload()
        assert page.inner_text("#current-status").startswith("ACCEPTED"), page.inner_text("body")[:500]
        assert "ACCEPTED" in page.inner_text("ol.timeline")
        shot(page, "filer-accepted")
        page.goto(f"{server}/filer")
        listing = page.inner_text("table")
        assert "MALFORMED" in listing and "PAY0001-2026-10-v3" in listing
        problems.check()
    uploads = [e for e in json.loads(json.dumps(_entries(home))) if e["action"] == "upload"]
    assert {e["target"] for e in uploads} >= {"PAY0001-2026-10-v2", "PAY0001-2026-10-v3"}


def _entries(home):
    from pipelines.portal import access_log

    return access_log.entries(home, 200)
