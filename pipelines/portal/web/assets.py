"""Static files: the portal's own (/static/portal), and the chart library from npm (/static/js/vendor/).

Charts are Vega-Lite specs (pipelines/reports/charts.py, shared with the static reports) rendered by vega-embed, served from the npm packages the project's
setup installs (`make setup-web`), never from a CDN; the page script is a static file (CSP: no inline script).
The same files are copied next to the static reports (pipelines/reports/chart_scripts.py).
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from pipelines.portal.web.common import STATIC
from pipelines.reports.chart_scripts import vendor_script


def register(app: FastAPI) -> None:
    app.mount("/static/portal", StaticFiles(directory=STATIC), name="portal-static")

    @app.get("/static/js/vendor/{name}", include_in_schema=False)
    def vendor(name: str) -> Response:
        data = vendor_script(name)
        if data is None:
            raise HTTPException(404, f"no vendored script {name}: run `make setup-web` (npm ci)")
        return Response(data, media_type="application/javascript")
