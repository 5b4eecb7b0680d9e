"""The supervision portal: server-rendered pages (Jinja2), one home per role, on the filing API's app.

`install(app, home, store, limits)` adds the pages to the FastAPI app made by `pipelines.portal.api`.

- Sign-in (`/login`) with a password; a signed session cookie (sessions.py); CSRF token on every form;
  sign-in throttling from the user store. Every other page needs a session: without one it answers 303 to
  /login. A role reaches only its own pages (403 otherwise).
- Pages read only the published snapshots through `connect_reader`: the analyst (pseudonymised) file for
  analysts and filers, the auditor file for auditors and regulators. They never open the live warehouse,
  so a running cycle blocks no one.
- A filer sees only its own enterprise: every submission fetched by id is checked against the user's
  enterprise (another enterprise's id answers 404 like an unknown one).
- Every sign-in (and failed or throttled attempt), upload, download and SQL query is recorded in the
  hash-chained access log.
- Charts are Vega-Lite specs (charts.py) rendered by vega-embed, served from the npm packages the project's
  setup installs (`make setup-web`), never from a CDN; the page script is a static file (CSP: no inline
  script).

The modules: common.py (constants, query helpers, and `Web`: render, require, snapshot, CSRF, access log),
assets.py (static files and the vendored chart scripts), auth.py (sign-in, sign-out), then one module of
pages per role: filer.py, analyst.py, auditor.py, regulator.py. See docs/portal.md.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from pipelines.home import Home
from pipelines.portal.uploads import Limits
from pipelines.portal.users import UserStore
from pipelines.portal.web import analyst, assets, auditor, auth, filer, regulator
from pipelines.portal.web.assets import VENDOR_FILES, node_modules, vendor_script
from pipelines.portal.web.common import (
    DEFAULT_DAGSTER_URL,
    ENTERPRISE_ID,
    INDICATOR_ID,
    PERIOD,
    ROLE_HOME,
    ROW_LIMIT,
    SAFE_NAME,
    SNAPSHOT_OF_ROLE,
    STATIC,
    TEMPLATES,
    TOP_N,
    WEB_DIR,
    LoginRequired,
    Web,
    has_table,
    rows,
)

__all__ = [
    "DEFAULT_DAGSTER_URL",
    "ENTERPRISE_ID",
    "INDICATOR_ID",
    "PERIOD",
    "ROLE_HOME",
    "ROW_LIMIT",
    "SAFE_NAME",
    "SNAPSHOT_OF_ROLE",
    "STATIC",
    "TEMPLATES",
    "TOP_N",
    "VENDOR_FILES",
    "WEB_DIR",
    "LoginRequired",
    "has_table",
    "install",
    "node_modules",
    "rows",
    "vendor_script",
]


def install(app: FastAPI, home: Home, store: UserStore, limits: Limits) -> None:
    web = Web(home, store, limits)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        path = request.url.path
        if path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        s = web.current(request)
        return web.render(
            request, "message.html", s, exc.status_code, title=f"{exc.status_code}", message=str(exc.detail)
        )

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> RedirectResponse:
        target = request.url.path
        nxt = f"?next={quote(target, safe='/')}" if target not in ("/", "/login") else ""
        return RedirectResponse(f"/login{nxt}", status_code=303)

    assets.register(app)  # the portal's static files, and the chart library from npm
    auth.register(app, web)  # /login, /logout, /
    filer.register(app, web)
    analyst.register(app, web)
    auditor.register(app, web)
    regulator.register(app, web)

    # --- every other page: a session first, then 404 (registered last) -----------------------------------

    @app.api_route("/{rest:path}", methods=["GET", "POST"], include_in_schema=False)
    def unknown_page(request: Request, rest: str) -> Response:
        s = web.session_of(request)
        raise HTTPException(404, f"no page /{rest}: start from {ROLE_HOME[s.user.role]}")
