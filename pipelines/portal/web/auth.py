"""Sign-in and sign-out: `/login` (password; its own CSRF token from a short-lived signed cookie, sign-in
throttling from the user store), `/logout`, and `/` (to the role's home)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pipelines.portal import access_log
from pipelines.portal.users import LoginThrottled
from pipelines.portal.web.common import ROLE_HOME, Web, text
from pipelines.portal.web.sessions import COOKIE, LOGIN_COOKIE, SESSION_HOURS


def register(app: FastAPI, web: Web) -> None:
    sessions = web.sessions

    def login_page(request: Request, error: str | None = None, status: int = 200) -> HTMLResponse:
        cookie, token = sessions.login_token(request.cookies.get(LOGIN_COOKIE))
        res = web.render(
            request,
            "login.html",
            None,
            status,
            login_csrf=token,
            error=error,
            next=request.query_params.get("next", ""),
        )
        res.set_cookie(
            LOGIN_COOKIE, cookie, max_age=3600, httponly=True, samesite="strict", secure=web.secure_cookie
        )
        return res

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request) -> Response:
        s = web.current(request)
        if s is not None:
            return RedirectResponse(ROLE_HOME[s.user.role], status_code=303)
        return login_page(request)

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await request.form(max_fields=10, max_files=0)
        if not sessions.check_login_token(request.cookies.get(LOGIN_COOKIE), text(form.get("csrf"))):
            return login_page(
                request, "The sign-in form expired or its CSRF token is missing: try again.", 403
            )
        username = str(form.get("username") or "")[:64]
        password = str(form.get("password") or "")[:1024]
        try:
            user = await run_in_threadpool(web.store.check_password, username, password)
        except LoginThrottled as exc:
            await run_in_threadpool(
                access_log.record, web.home, "sign_in_throttled", username or "-", "-", None, None
            )
            return login_page(request, str(exc), 429)
        if user is None:
            await run_in_threadpool(
                access_log.record, web.home, "sign_in_failed", username or "-", "-", None, None
            )
            return login_page(request, "Wrong username or password (or the user is disabled).", 401)
        cookie, s = sessions.start(user)
        web.log(user, "sign_in", None, via="portal")
        nxt = str(form.get("next") or "")
        home_page = ROLE_HOME[user.role]
        target = nxt if nxt.startswith(home_page) and "//" not in nxt and "\\" not in nxt else home_page
        res = RedirectResponse(target, status_code=303)
        res.set_cookie(
            COOKIE,
            cookie,
            max_age=SESSION_HOURS * 3600,
            httponly=True,
            samesite="strict",
            secure=web.secure_cookie,
        )
        res.delete_cookie(LOGIN_COOKIE)
        return res

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        s = web.session_of(request)
        await web.form_of(request, s)
        sessions.end(s)
        web.log(s.user, "sign_out")
        res = RedirectResponse("/login", status_code=303)
        res.delete_cookie(COOKIE)
        return res

    @app.get("/", include_in_schema=False)
    def root(request: Request) -> Response:
        s = web.session_of(request)
        return RedirectResponse(ROLE_HOME[s.user.role], status_code=303)
