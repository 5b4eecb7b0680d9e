"""Static files: the portal's own (/static/portal), and the chart library from npm (/static/js/vendor/).

Charts are Vega-Lite specs (charts.py) rendered by vega-embed, served from the npm packages the project's
setup installs (`make setup-web`), never from a CDN; the page script is a static file (CSP: no inline script).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from pipelines.portal.web.common import STATIC, WEB_DIR

# The npm files served under /static/js/vendor/ (node_modules of pipelines/portal/web, `make setup-web`).
VENDOR_FILES = {
    "vega.min.js": "vega/build/vega.min.js",
    "vega-lite.min.js": "vega-lite/build/vega-lite.min.js",
    "vega-embed.min.js": "vega-embed/build/vega-embed.min.js",
    "vega-interpreter.js": "vega-interpreter/build/vega-interpreter.js",
}


def node_modules() -> Path:
    return Path(os.environ.get("SUPTECH_WEB_NODE_MODULES") or WEB_DIR / "node_modules")


def vendor_script(name: str) -> bytes | None:
    """A vendored chart script; vega-interpreter (an ES module importing vega-util) is wrapped as a classic
    script reading vega-util's functions from the global `vega`, so no module loader or import map (an
    inline script) is needed."""
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


def register(app: FastAPI) -> None:
    app.mount("/static/portal", StaticFiles(directory=STATIC), name="portal-static")

    @app.get("/static/js/vendor/{name}", include_in_schema=False)
    def vendor(name: str) -> Response:
        data = vendor_script(name)
        if data is None:
            raise HTTPException(404, f"no vendored script {name}: run `make setup-web` (npm ci)")
        return Response(data, media_type="application/javascript")
