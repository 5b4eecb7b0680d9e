"""The portal's templates, static files and npm manifest ship as package data (pyproject.toml), so an installed
`suptech` serves its pages; node_modules is not shipped (`npm ci` in pipelines/portal/web, or
SUPTECH_WEB_NODE_MODULES). Checked by hand on 2026-12-07: `uv build --wheel` lists every file below, and the
portal app and its templates load from the unpacked wheel."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "pipelines" / "portal" / "web"


def test_portal_templates_and_static_files_are_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["pipelines"]
    files = [
        *sorted((WEB / "templates").iterdir()),
        *sorted((WEB / "static").iterdir()),
        WEB / "package.json",
        WEB / "package-lock.json",
    ]
    assert len(files) > 20
    for path in files:
        rel = path.relative_to(ROOT / "pipelines").as_posix()
        assert any(fnmatch.fnmatch(rel, g) for g in globs), f"{rel} is not package data"
