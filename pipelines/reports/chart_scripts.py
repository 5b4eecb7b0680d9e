"""The chart scripts the portal serves and the static reports load: the npm packages vega, vega-lite,
vega-embed and vega-interpreter (installed by `make setup-web`: `npm ci` in pipelines/portal/web/, never a
CDN) and the renderer both use, pipelines/portal/web/static/charts.js.

The portal serves them under /static/js/vendor/ and /static/portal/ (pipelines/portal/web/assets.py). A
report is a static file opened from disk, so `write_report_scripts` copies them into `<reports>/assets/`
(only when their bytes changed) and `script_tags` names them relative to a report one folder below.
"""

from __future__ import annotations

import os
import re
from html import escape
from pathlib import Path

WEB_DIR = Path(__file__).resolve().parents[1] / "portal" / "web"
RENDERER = WEB_DIR / "static" / "charts.js"  # renders every <div class="chart" data-vl="…">
ASSETS = "assets"  # <reports>/assets/

# The npm files, in load order (node_modules of pipelines/portal/web).
VENDOR_FILES = {
    "vega.min.js": "vega/build/vega.min.js",
    "vega-lite.min.js": "vega-lite/build/vega-lite.min.js",
    "vega-embed.min.js": "vega-embed/build/vega-embed.min.js",
    "vega-interpreter.js": "vega-interpreter/build/vega-interpreter.js",
}


def node_modules() -> Path:
    return Path(os.environ.get("SUPTECH_WEB_NODE_MODULES") or WEB_DIR / "node_modules")


def vendor_script(name: str) -> bytes | None:
    """A vendored chart script (None when not installed); vega-interpreter (an ES module importing
    vega-util) is wrapped as a classic script reading vega-util's functions from the global `vega`, so no
    module loader or import map (an inline script) is needed."""
    rel = VENDOR_FILES.get(name)
    if rel is None:
        return None
    path = node_modules() / rel
    if not path.is_file():
        return None
    data = path.read_bytes()
    if name == "vega-interpreter.js":
        text = data.decode("utf-8")
        text = re.sub(
            r"^import \{([^}]*)\} from 'vega-util';",
            lambda m: "const {" + m.group(1) + "} = vega;",
            text,
            count=1,
            flags=re.M,
        )
        text = re.sub(
            r"^export \{ expression as expressionInterpreter \};",
            "window.vegaInterpreter = { expressionInterpreter: expression };",
            text,
            flags=re.M,
        )
        data = ("(function () {\n" + text + "\n})();\n").encode("utf-8")
    return data


def _write_if_changed(path: Path, data: bytes) -> None:
    if path.is_file() and path.read_bytes() == data:
        return
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def installed_scripts() -> list[str]:
    """The names a report loads, in order: the installed npm scripts, then the renderer (which says the
    charts are unavailable when the npm packages are not installed)."""
    return [n for n, rel in VENDOR_FILES.items() if (node_modules() / rel).is_file()] + [RENDERER.name]


def write_report_scripts(reports_dir: Path) -> list[str]:
    """Copy the installed chart scripts and the renderer into <reports_dir>/assets/; the names written (those
    of `installed_scripts`)."""
    folder = reports_dir / ASSETS
    folder.mkdir(parents=True, exist_ok=True)
    names = installed_scripts()
    for name in names:
        data = RENDERER.read_bytes() if name == RENDERER.name else vendor_script(name)
        assert data is not None, name
        _write_if_changed(folder / name, data)
    return names


def script_tags(names: list[str], prefix: str = f"../{ASSETS}/") -> str:
    """The <script> elements of a report one folder below <reports> (classic scripts, loaded in order)."""
    return "".join(f'<script src="{escape(prefix + n, quote=True)}"></script>' for n in names)
