"""Publish the dbt documentation site (models, columns, lineage, indicator meta) as one offline page.

`dbt docs generate --static` writes target/static_index.html with the manifest and catalog inlined. The
page's only network reference is dbt's Snowplow tracker script (loaded from a CDN at start-up); it is
replaced by an empty inline script, so the page opens from disk with no request leaving the machine.

The cycle's dbt docs step (`refresh_dbt_docs`) regenerates the page only when what it documents changed:
the dbt project's files, dbt's version or the warehouse's tables and columns (the catalog), recorded as
one fingerprint beside the page (reports/dbt_docs/.fingerprint, written after the page).
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import datetime
from pathlib import Path

from pipelines.dbt_runner import PROJECT_DIR, DbtBuildError, project_files_fingerprint, run_dbt
from pipelines.home import Home

PAGE = "static_index.html"
FINGERPRINT = ".fingerprint"
# protocol-relative or absolute URLs of script sources in dbt-docs' bundle (the tracker)
_SCRIPT_SRC = re.compile(r'(\.src=)"(?:https?:)?//[^"]+\.js"')
_EMPTY_SCRIPT = '"data:text/javascript,"'


def make_offline(html: str) -> str:
    """The page with every remote script source replaced by an empty inline script."""
    return _SCRIPT_SRC.sub(lambda m: m.group(1) + _EMPTY_SCRIPT, html)


def publish_dbt_docs(home: Home, as_of: datetime) -> Path:
    """Generate the static docs against the warehouse and publish them to reports/dbt_docs/."""
    result = run_dbt(
        ["docs", "generate", "--static", "--quiet"],
        warehouse=home.warehouse,
        as_of=as_of,
        target_dir=home.dbt_target,
    )
    if not result.success:
        raise DbtBuildError(result)
    html = (home.dbt_target / PAGE).read_text(encoding="utf-8")
    out_dir = home.reports / "dbt_docs"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / PAGE
    tmp = out.with_suffix(".tmp")
    tmp.write_text(make_offline(html), encoding="utf-8")
    os.replace(tmp, out)
    return out


def project_fingerprint(home: Home, project_dir: Path = PROJECT_DIR) -> str:
    """sha256 over what the docs page shows: the dbt project (`project_files_fingerprint`: its files,
    dbt's and the adapter's versions) and the warehouse's schemas, tables and column types."""
    import duckdb

    h = hashlib.sha256(f"{project_files_fingerprint(project_dir)}\n".encode())
    if home.warehouse.exists():
        con = duckdb.connect(str(home.warehouse), read_only=True)
        try:
            rows = con.execute(
                "select table_schema, table_name, column_name, data_type from information_schema.columns "
                "where table_catalog = current_database() order by 1, 2, ordinal_position"
            ).fetchall()
        finally:
            con.close()
        for row in rows:
            h.update(("|".join(map(str, row)) + "\n").encode())
    return h.hexdigest()


def refresh_dbt_docs(home: Home, as_of: datetime) -> Path | None:
    """Publish the docs page when it is missing or what it documents changed (`project_fingerprint`);
    returns the page when it was regenerated, None when it was up to date. Call with the writer lock
    held and no connection to the warehouse open."""
    out_dir = home.reports / "dbt_docs"
    recorded = out_dir / FINGERPRINT
    current = project_fingerprint(home)
    try:
        if (out_dir / PAGE).is_file() and recorded.read_text(encoding="utf-8") == current:
            return None
    except FileNotFoundError:
        pass
    page = publish_dbt_docs(home, as_of)
    tmp = recorded.with_suffix(".tmp")
    tmp.write_text(current, encoding="utf-8")
    os.replace(tmp, recorded)
    return page
