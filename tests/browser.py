"""Open a local HTML page in a real headless browser (Debian's chromium, installed by `make setup-browser`)
with the network blocked, and report what a reader would see.

    result = render_offline(report_html, ARTIFACTS / "quality.png")
    assert "Rule hit rates" in result.text and result.ok, result.problems()

Every request that is not a local file is aborted and reported in `failed_requests`, so a page that pulls
a script, stylesheet or font from a CDN fails its test; `console_errors` holds console errors and
uncaught exceptions.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_FLAGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@dataclass
class PageResult:
    title: str
    text: str
    failed_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # the elements matching each selector of `count`

    @property
    def ok(self) -> bool:
        return not self.failed_requests and not self.console_errors

    def problems(self) -> str:
        return f"failed requests: {self.failed_requests}; console errors: {self.console_errors}"


def chromium_path() -> str:
    """The browser binary, or a test failure that says how to install it."""
    path = os.environ.get("SUPTECH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Debian's chromium is not installed: run `make setup-browser` (apt-get install chromium)")
    return path


def render_offline(
    html: Path,
    screenshot: Path | None = None,
    *,
    width: int = 1280,
    wait_ms: int = 300,
    wait_for: str | None = None,
    count: tuple[str, ...] = (),
) -> PageResult:
    """Load `html` from disk with every non-file request aborted; screenshot the full page if asked.
    `wait_for`: a JavaScript expression to wait for (up to 20 s) after the load; `count`: CSS selectors whose
    matches are counted into `counts`."""
    from playwright.sync_api import sync_playwright

    html = Path(html).resolve()
    if not html.is_file():
        raise FileNotFoundError(html)
    failed: list[str] = []
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": 900})

            def block_remote(route) -> None:  # file:// never reaches a route; anything else is remote
                failed.append(f"blocked {route.request.url}")
                route.abort()

            context.route("http://*/**", block_remote)
            context.route("https://*/**", block_remote)
            page = context.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("requestfailed", lambda r: failed.append(f"{r.url}: {r.failure}"))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
            page.goto(html.as_uri(), wait_until="load")
            if wait_for:
                page.wait_for_function(wait_for, timeout=20_000)
            page.wait_for_timeout(wait_ms)
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=True)
            result = PageResult(
                title=page.title(),
                text=page.inner_text("body"),
                requests=list(requests),
                counts={selector: page.locator(selector).count() for selector in count},
            )
        finally:
            browser.close()
    # A blocked request is reported by both the route and requestfailed: keep one line per URL.
    seen: dict[str, str] = {}
    for line in failed:
        url = line.removeprefix("blocked ").split(": ")[0]
        seen.setdefault(url, line)
    result.failed_requests = list(seen.values())
    result.console_errors = errors
    return result
