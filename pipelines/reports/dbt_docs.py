"""Publish the dbt documentation site (models, columns, lineage, indicator meta) as one offline page.

`dbt docs generate --static` writes target/static_index.html with the manifest and catalog inlined. The
page's only network reference is dbt's Snowplow tracker script (loaded from a CDN at start-up); it is
replaced by an empty inline script, so the page opens from disk with no request leaving the machine.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

from pipelines.dbt_runner import DbtBuildError, run_dbt
from pipelines.home import Home

PAGE = "static_index.html"
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
