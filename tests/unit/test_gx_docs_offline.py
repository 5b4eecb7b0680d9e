"""GX Data Docs pages are made to render offline: remote assets and the scripts that need them go."""

from __future__ import annotations

from pipelines.reports.gx_docs import make_offline, remote_references

PAGE = """<html><head>
<link rel="stylesheet" href="https://cdn.example.org/bootstrap.min.css">
<script src="https://code.jquery.com/jquery.min.js"></script>
<script>$(function () { $('#t').bootstrapTable(); });</script>
<style>@import url("https://fonts.example.org/css?family=X"); .logo{background:url(https://s3.example/logo.png)}</style>
</head><body><img src="https://s3.example/logo.png"><table id="t"><tr><td>validity.transactions</td></tr></table>
<a href="https://docs.greatexpectations.io/docs">docs</a></body></html>"""


def test_remote_assets_and_scripts_are_removed(tmp_path):
    page = tmp_path / "index.html"
    page.write_text(PAGE, encoding="utf-8")
    assert len(remote_references(tmp_path)) == 5  # link, script, @import url, css url, img (not the <a>)
    assert make_offline(tmp_path) == 6  # the five and the inline script
    text = page.read_text(encoding="utf-8")
    assert remote_references(tmp_path) == []
    assert "<script" not in text and "validity.transactions" in text
    assert '<a href="https://docs.greatexpectations.io/docs">' in text  # a link to follow, not a load
    assert "<style>" in text  # the inline replacement stylesheet
