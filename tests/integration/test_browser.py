"""The browser harness itself: it sees a page's text and catches any request that leaves the machine."""

from __future__ import annotations

from pathlib import Path

from tests.browser import ARTIFACTS, render_offline


def test_self_contained_page_renders_without_requests(tmp_path: Path) -> None:
    page = tmp_path / "ok.html"
    page.write_text(
        "<!doctype html><title>ok</title><style>h1{color:#123}</style><h1>Reserve coverage</h1>"
        '<svg width="10" height="10"><rect width="10" height="10"/></svg>',
        encoding="utf-8",
    )
    result = render_offline(page, ARTIFACTS / "browser-harness.png")
    assert result.title == "ok"
    assert "Reserve coverage" in result.text
    assert result.ok, result.problems()
    assert (ARTIFACTS / "browser-harness.png").stat().st_size > 0


def test_remote_assets_and_script_errors_are_reported(tmp_path: Path) -> None:
    page = tmp_path / "cdn.html"
    page.write_text(
        "<!doctype html><title>cdn</title>"
        '<link rel="stylesheet" href="https://cdn.example.com/bootstrap.css">'
        '<script src="http://cdn.example.com/jquery.js"></script>'
        "<script>undefinedFunction()</script><p>body</p>",
        encoding="utf-8",
    )
    result = render_offline(page)
    urls = " ".join(result.failed_requests)
    assert "https://cdn.example.com/bootstrap.css" in urls
    assert "http://cdn.example.com/jquery.js" in urls
    assert any("undefinedFunction" in e for e in result.console_errors)
    assert not result.ok
