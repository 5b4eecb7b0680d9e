"""Great Expectations Data Docs of a period, built from the published snapshot into <reports>/gx_docs/ and
made to render offline.

The validity suites (the ones the intake runs, pipelines/quality/suites.py) are run once per filing type
over the raw rows of the period's current submissions, inside DuckDB (a GX query asset on the snapshot),
by a checkpoint whose UpdateDataDocsAction writes the site. GX's page templates load Bootstrap, jQuery,
Font Awesome and fonts from CDNs and build the index's tables with them: :func:`make_offline` removes every
remote <link>, <img> and <script> and the inline scripts that drive them and adds a small inline stylesheet
(the validation and suite pages are rendered server-side and stay complete), and :func:`write_index`
replaces GX's script-built index with a static one. tests/e2e/test_quality_report_browser.py opens them in
chromium with the network blocked.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from pipelines.warehouse.db import fetch_one

REMOTE_TAG = re.compile(
    r"<link[^>]+href=[\"']https?://[^>]*>|<script[^>]+src=[\"']https?://[^>]*>\s*</script>", re.IGNORECASE
)
REMOTE_CSS_IMPORT = re.compile(r"@import\s+url\([\"']?https?://[^)]*\)\s*;?", re.IGNORECASE)
REMOTE_IMG = re.compile(r"<img[^>]+src=[\"']https?://[^>]*>", re.IGNORECASE)
REMOTE_URL = re.compile(r"url\([\"']?https?://[^)]*\)", re.IGNORECASE)
# GX's inline scripts drive the CDN libraries (jQuery, bootstrap-table): without them they only throw
INLINE_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.IGNORECASE | re.DOTALL)
OFFLINE_CSS = """<style>
body{font-family:system-ui,sans-serif;margin:1em 2em;color:#222}table{border-collapse:collapse;font-size:.85em}
th,td{border:1px solid #ccc;padding:.2em .5em;vertical-align:top}.d-none,.hide{display:none}
.card{border:1px solid #ddd;margin:.5em 0;padding:.5em}.navbar{background:#eef3fa;padding:.3em}
.text-danger{color:#b23b3b}.text-success{color:#2a7a2a}img{max-height:2em}
</style>"""


def make_offline(site: Path) -> int:
    """Strip remote stylesheets, scripts and CSS imports from every HTML/CSS file under ``site``; return
    how many references were removed."""
    removed = 0
    for path in site.rglob("*"):
        if path.suffix not in (".html", ".css") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        new, n1 = REMOTE_TAG.subn("", text)
        new, n2 = REMOTE_CSS_IMPORT.subn("", new)
        new, n3 = REMOTE_IMG.subn("", new)
        new, n4 = REMOTE_URL.subn("none", new)
        new, n5 = INLINE_SCRIPT.subn("", new)
        n2 += n3 + n4 + n5
        if path.suffix == ".html" and n1 and "</head>" in new:
            new = new.replace("</head>", OFFLINE_CSS + "</head>", 1)
        if n1 or n2:
            path.write_text(new, encoding="utf-8")
            removed += n1 + n2
    return removed


def remote_references(site: Path) -> list[str]:
    """src/href attributes and CSS url()s under ``site`` that point at the network."""
    pattern = re.compile(r"(?:src|href)=[\"'](https?://[^\"']+)|url\([\"']?(https?://[^)\"']+)", re.I)
    hits = []
    for path in site.rglob("*"):
        if path.suffix in (".html", ".css", ".js") and path.is_file():
            for m in pattern.finditer(path.read_text(encoding="utf-8", errors="replace")):
                url = m.group(1) or m.group(2)
                if not _is_plain_link(path, url):
                    hits.append(f"{path.relative_to(site)}: {url}")
    return hits


def _is_plain_link(path: Path, url: str) -> bool:
    """An <a href> to a website is a link a reader may follow, not a resource the page loads."""
    text = path.read_text(encoding="utf-8", errors="replace")
    return f'<a href="{url}"' in text or f"<a href='{url}'" in text


def build_gx_docs(con: duckdb.DuckDBPyConnection, target: Path, period: str) -> Path:
    """Run the validity suites over the period's current submissions and write the Data Docs site."""
    import great_expectations as gx

    from pipelines.quality import gx_duckdb
    from pipelines.quality.suites import build_suites

    target.mkdir(parents=True, exist_ok=True)
    sids = [
        r[0]
        for r in con.execute(
            "select submission_id from intake.submissions where period = ? "
            "and status in ('ACCEPTED', 'ACCEPTED_WITH_WARNINGS') order by 1",
            [period],
        ).fetchall()
    ]
    context = gx_duckdb.ephemeral_context()
    context.add_data_docs_site(
        site_name="offline",
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(target)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    in_list = ", ".join("'" + s.replace("'", "''") + "'" for s in sids) or "''"
    with gx_duckdb.duckdb_datasource(context, con, gx_duckdb.database_file(con)) as datasource:
        definitions = []
        for ft, suite in build_suites().items():
            n = fetch_one(con, f"select count(*) from raw.{ft} where submission_id in ({in_list})")[0]
            if n == 0:
                continue
            asset = datasource.add_query_asset(
                name=f"{ft}_{period}", query=f"select * from raw.{ft} where submission_id in ({in_list})"
            )
            batch_definition = asset.add_batch_definition_whole_table(name=f"current versions {period}")
            suite = context.suites.add(suite)
            definitions.append(
                context.validation_definitions.add(
                    gx.ValidationDefinition(name=f"{ft} {period}", data=batch_definition, suite=suite)
                )
            )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=f"quality report {period}",
                validation_definitions=definitions,
                actions=[gx.checkpoint.UpdateDataDocsAction(name="data docs", site_names=["offline"])],
                result_format={"result_format": "SUMMARY"},
            )
        )
        checkpoint.run()
    make_offline(target)
    return write_index(target, period)


def write_index(site: Path, period: str) -> Path:
    """A static index of the site's validation results and expectation suites (relative links)."""
    from html import escape

    def rows(folder: str) -> str:
        pages = sorted((site / folder).rglob("*.html")) if (site / folder).exists() else []
        return "".join(
            f"<tr><td>{escape(p.relative_to(site / folder).parts[1] if folder == 'validations' else p.stem)}</td>"
            f"<td><a href='{escape(p.relative_to(site).as_posix())}'>{escape(p.relative_to(site).as_posix())}</a>"
            "</td></tr>"
            for p in pages
        )

    index = site / "index.html"
    index.write_text(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Great Expectations Data Docs {escape(period)}</title>{OFFLINE_CSS}</head><body>"
        f"<h1>Great Expectations Data Docs — {escape(period)}</h1>"
        "<p>The validity suites run over the raw rows of the period's current submissions (inside DuckDB).</p>"
        "<h2>Validation results</h2><table><tr><th>filing type</th><th>page</th></tr>"
        f"{rows('validations')}</table>"
        "<h2>Expectation suites</h2><table><tr><th>suite</th><th>page</th></tr>"
        f"{rows('expectations')}</table></body></html>",
        encoding="utf-8",
    )
    return index
