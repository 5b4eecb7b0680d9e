"""The portal's wiring: `install(app, home, store, limits)` adds every page module's routes, the error
handlers and the session-guarded 404 to the filing API's FastAPI app (pipelines.portal.api)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from pipelines.home import Home
from pipelines.portal.uploads import Limits
from pipelines.portal.users import UserStore
from pipelines.portal.web import analyst, assets, auditor, auth, filer, regulator
from pipelines.portal.web.common import (
    ROLE_HOME,
    LoginRequired,
    Web,
)


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
