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
See docs/portal.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from pipelines.home import Home
from pipelines.intake.package import SUBMISSION_ID
from pipelines.portal import access_log, queue, uploads
from pipelines.portal.uploads import Limits, UploadRefused
from pipelines.portal.users import LoginThrottled, User, UserStore
from pipelines.portal.web import charts, sqlpage
from pipelines.portal.web.sessions import COOKIE, LOGIN_COOKIE, SESSION_HOURS, Session, Sessions, same_token
from pipelines.warehouse.db import connect_reader

WEB_DIR = Path(__file__).parent
TEMPLATES = WEB_DIR / "templates"
STATIC = WEB_DIR / "static"
ROLE_HOME = {"filer": "/filer", "analyst": "/analyst", "auditor": "/auditor", "regulator": "/regulator"}
SNAPSHOT_OF_ROLE = {"filer": "analyst", "analyst": "analyst", "auditor": "auditor", "regulator": "auditor"}
DEFAULT_DAGSTER_URL = "http://127.0.0.1:3000"
ROW_LIMIT = 200
TOP_N = 20
ENTERPRISE_ID = re.compile(r"^[A-Z0-9]{2,8}[0-9]{4}$")
INDICATOR_ID = re.compile(r"^[A-Z]{2,5}-[0-9]{3}$")
PERIOD = re.compile(r"^[0-9]{4}-[0-9]{2}$")
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")

# The npm files served under /static/js/vendor/ (node_modules of pipelines/portal/web, `make setup-web`).
VENDOR_FILES = {
    "vega.min.js": "vega/build/vega.min.js",
    "vega-lite.min.js": "vega-lite/build/vega-lite.min.js",
    "vega-embed.min.js": "vega-embed/build/vega-embed.min.js",
    "vega-interpreter.js": "vega-interpreter/build/vega-interpreter.js",
}


class LoginRequired(Exception):
    """No valid session: the page answers 303 to /login."""


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


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["vl"] = lambda spec: json.dumps(spec, ensure_ascii=False, allow_nan=False, default=str)
    env.filters["num"] = _num
    env.filters["urlq"] = lambda v: quote(str(v), safe="")
    return env


def _num(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        if v != v:
            return "n/a"
        return f"{v:,.4g}" if abs(v) < 1e6 else f"{v:,.0f}"
    return str(v)


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select 1 from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
        ).fetchone()
    )


def install(app: FastAPI, home: Home, store: UserStore, limits: Limits) -> None:
    env = _env()
    sessions = Sessions(home, store)
    dagster_url = os.environ.get("SUPTECH_DAGSTER_URL", DEFAULT_DAGSTER_URL)
    secure_cookie = os.environ.get("SUPTECH_SECURE_COOKIES", "") == "1"

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        path = request.url.path
        if path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        s = sessions.load(request.cookies.get(COOKIE))
        return render(
            request, "message.html", s, exc.status_code, title=f"{exc.status_code}", message=str(exc.detail)
        )

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> RedirectResponse:
        target = request.url.path
        nxt = f"?next={quote(target, safe='/')}" if target not in ("/", "/login") else ""
        return RedirectResponse(f"/login{nxt}", status_code=303)

    def log(user: User, action: str, target: str | None = None, **detail: Any) -> None:
        access_log.record(home, action, user.username, user.role, target, detail or None)

    def session_of(request: Request) -> Session:
        s = sessions.load(request.cookies.get(COOKIE))
        if s is None:
            raise LoginRequired()
        return s

    def require(request: Request, *roles: str) -> Session:
        s = session_of(request)
        if roles and s.user.role not in roles:
            raise HTTPException(
                403, f"this page is for {', '.join(roles)}; you are signed in as {s.user.role}"
            )
        return s

    async def form_of(request: Request, s: Session) -> Any:
        form = await request.form(max_fields=20, max_files=0)
        if not same_token(s.csrf, _text(form.get("csrf"))):
            raise HTTPException(
                403, "the form's CSRF token is missing or wrong: reload the page and try again"
            )
        return form

    def render(
        request: Request, template: str, s: Session | None, status: int = 200, **ctx: Any
    ) -> HTMLResponse:
        page = env.get_template(template).render(
            user=s.user if s else None,
            csrf=s.csrf if s else None,
            role_home=ROLE_HOME,
            dagster_url=dagster_url,
            path=request.url.path,
            **ctx,
        )
        return HTMLResponse(page, status_code=status)

    @contextlib.contextmanager
    def snapshot(user: User) -> Iterator[duckdb.DuckDBPyConnection | None]:
        try:
            con = connect_reader(home, SNAPSHOT_OF_ROLE[user.role])  # type: ignore[arg-type]
        except FileNotFoundError:
            yield None
            return
        try:
            yield con
        finally:
            con.close()

    def periods(con: duckdb.DuckDBPyConnection | None) -> list[str]:
        if con is None:
            return []
        return [
            r[0]
            for r in con.execute("select distinct period from intake.submissions order by 1 desc").fetchall()
        ]

    # --- static files: the portal's own, and the chart library from npm ------------------------------------

    app.mount("/static/portal", StaticFiles(directory=STATIC), name="portal-static")

    @app.get("/static/js/vendor/{name}", include_in_schema=False)
    def vendor(name: str) -> Response:
        data = vendor_script(name)
        if data is None:
            raise HTTPException(404, f"no vendored script {name}: run `make setup-web` (npm ci)")
        return Response(data, media_type="application/javascript")

    # --- sign-in ----------------------------------------------------------------------------------------

    def login_page(request: Request, error: str | None = None, status: int = 200) -> HTMLResponse:
        cookie, token = sessions.login_token(request.cookies.get(LOGIN_COOKIE))
        res = render(
            request,
            "login.html",
            None,
            status,
            login_csrf=token,
            error=error,
            next=request.query_params.get("next", ""),
        )
        res.set_cookie(
            LOGIN_COOKIE, cookie, max_age=3600, httponly=True, samesite="strict", secure=secure_cookie
        )
        return res

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request) -> Response:
        s = sessions.load(request.cookies.get(COOKIE))
        if s is not None:
            return RedirectResponse(ROLE_HOME[s.user.role], status_code=303)
        return login_page(request)

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await request.form(max_fields=10, max_files=0)
        if not sessions.check_login_token(request.cookies.get(LOGIN_COOKIE), _text(form.get("csrf"))):
            return login_page(
                request, "The sign-in form expired or its CSRF token is missing: try again.", 403
            )
        username = str(form.get("username") or "")[:64]
        password = str(form.get("password") or "")[:1024]
        try:
            user = await run_in_threadpool(store.check_password, username, password)
        except LoginThrottled as exc:
            await run_in_threadpool(
                access_log.record, home, "sign_in_throttled", username or "-", "-", None, None
            )
            return login_page(request, str(exc), 429)
        if user is None:
            await run_in_threadpool(
                access_log.record, home, "sign_in_failed", username or "-", "-", None, None
            )
            return login_page(request, "Wrong username or password (or the user is disabled).", 401)
        cookie, s = sessions.start(user)
        log(user, "sign_in", None, via="portal")
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
            secure=secure_cookie,
        )
        res.delete_cookie(LOGIN_COOKIE)
        return res

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        s = session_of(request)
        await form_of(request, s)
        sessions.end(s)
        log(s.user, "sign_out")
        res = RedirectResponse("/login", status_code=303)
        res.delete_cookie(COOKIE)
        return res

    @app.get("/", include_in_schema=False)
    def root(request: Request) -> Response:
        s = session_of(request)
        return RedirectResponse(ROLE_HOME[s.user.role], status_code=303)

    # --- filer ------------------------------------------------------------------------------------------

    def filer_submission(user: User, sid: str) -> dict[str, Any]:
        """The filer's own submission (snapshot or landing area); 404 for others' and unknown ids alike."""
        m = SUBMISSION_ID.match(sid)
        if m is None or m.group(1) != user.enterprise_id:
            raise HTTPException(404, f"no submission {sid} visible to you")
        with snapshot(user) as con:
            if con is not None:
                found = rows(
                    con,
                    "select submission_id, enterprise_id, period, version, supersedes, status, status_reason, "
                    "status_at, received_at, submitted_at from intake.submissions "
                    "where submission_id = ? and enterprise_id = ?",
                    [sid, user.enterprise_id],
                )
                if found:
                    sub = found[0]
                    sub["pending"] = False
                    sub["events"] = rows(
                        con,
                        "select status, event_at, reason from intake.submission_events where submission_id = ? "
                        "order by event_at, event_id",
                        [sid],
                    )
                    sub["acknowledgements"] = rows(
                        con,
                        "select rule_id, reason, acknowledged_by, acknowledged_at from intake.acknowledgements "
                        "where submission_id = ? order by acknowledged_at, rule_id",
                        [sid],
                    )
                    return sub
        from pipelines.portal.api import landed_uploads

        waiting = [w for w in landed_uploads(home, user.enterprise_id, set()) if w["submission_id"] == sid]
        if waiting:
            return {**waiting[0], "events": [], "acknowledgements": []}
        raise HTTPException(404, f"no submission {sid} visible to you")

    def edit_report(sid: str) -> dict[str, Any] | None:
        path = home.reports / "edit" / f"{sid}.json"
        if not SAFE_NAME.match(sid) or not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def ranked_rules(report: dict[str, Any]) -> list[dict[str, Any]]:
        from pipelines.quality.catalog import load_catalog

        catalog = load_catalog()
        out = []
        for rule_id, n in report.get("counts_by_rule", {}).items():
            rule = catalog.get(rule_id)
            out.append(
                {
                    "rule_id": rule_id,
                    "count": n,
                    "severity": rule.severity if rule else "?",
                    "title": rule.title if rule else "",
                    "fix": rule.what_to_fix if rule else "",
                    "examples": [f for f in report.get("findings", []) if f.get("rule_id") == rule_id][:5],
                }
            )
        out.sort(key=lambda r: (r["severity"] != "error", -r["count"], r["rule_id"]))
        return out

    @app.get("/filer", include_in_schema=False)
    def filer_home(request: Request) -> HTMLResponse:
        s = require(request, "filer")
        from pipelines.portal.api import landed_uploads

        with snapshot(s.user) as con:
            subs = (
                rows(
                    con,
                    "select submission_id, period, version, status, status_reason, status_at, received_at "
                    "from intake.submissions where enterprise_id = ? order by received_at desc, submission_id",
                    [s.user.enterprise_id],
                )
                if con is not None
                else []
            )
        waiting = landed_uploads(home, s.user.enterprise_id, {x["submission_id"] for x in subs})
        log(s.user, "list", s.user.enterprise_id, via="portal", count=len(subs) + len(waiting))
        return render(
            request,
            "filer_home.html",
            s,
            submissions=subs,
            waiting=waiting,
            max_bytes=limits.max_upload_bytes,
        )

    @app.post("/filer/upload", include_in_schema=False)
    async def filer_upload(request: Request) -> Response:
        s = require(request, "filer")
        wants_json = "application/json" in request.headers.get("accept", "")
        length = request.headers.get("content-length")
        ctype = request.headers.get("content-type", "")
        from pipelines.portal.api import land_package, receive_form

        try:
            if not ctype.startswith("multipart/form-data"):
                raise UploadRefused(415, "send the form as multipart/form-data")
            if length is None:
                raise UploadRefused(411, "a multipart upload needs a Content-Length header")
            if int(length) > limits.max_upload_bytes + (1 << 20):
                raise uploads.too_large(limits)
            with uploads.staging_area(home) as area:
                async with request.form(max_files=limits.max_files + 1, max_fields=6) as form:
                    if not same_token(s.csrf, _text(form.get("csrf"))):
                        raise HTTPException(403, "the form's CSRF token is missing or wrong: reload the page")
                    await receive_form(_ChosenFiles(form), area, limits)
                done = await run_in_threadpool(
                    land_package, home, area / "package", s.user.enterprise_id or ""
                )
        except UploadRefused as exc:
            await run_in_threadpool(
                log, s.user, "upload_refused", None, via="portal", status=exc.status, reason=exc.message
            )
            if wants_json:
                return JSONResponse({"error": exc.message}, status_code=exc.status)
            return render(request, "message.html", s, exc.status, title="Upload refused", message=exc.message)
        await run_in_threadpool(
            log, s.user, "upload", done.submission_id, via="portal", files=done.files, bytes=done.bytes
        )
        location = f"/filer/submissions/{done.submission_id}"
        if wants_json:
            return JSONResponse(
                {"submission_id": done.submission_id, "status": "UPLOADED", "location": location}, 202
            )
        return RedirectResponse(location, status_code=303)

    @app.get("/filer/submissions/{sid}", include_in_schema=False)
    def filer_submission_page(request: Request, sid: str) -> HTMLResponse:
        s = require(request, "filer")
        sub = filer_submission(s.user, sid)
        report = None if sub.get("pending") else edit_report(sid)
        pending = queue.pending(home, sid)
        outcomes = queue.done(home, sid)
        log(s.user, "read", sid, via="portal")
        return render(
            request,
            "filer_submission.html",
            s,
            sub=sub,
            report=report,
            ranked=ranked_rules(report) if report else [],
            pending=pending,
            outcomes=outcomes,
            formats=[f for f in ("html", "csv", "json") if (home.reports / "edit" / f"{sid}.{f}").is_file()],
        )

    @app.get("/filer/submissions/{sid}/edit-report.{fmt}", include_in_schema=False)
    def filer_edit_report(request: Request, sid: str, fmt: str) -> FileResponse:
        s = require(request, "filer")
        from pipelines.portal.api import REPORT_TYPES

        if fmt not in REPORT_TYPES:
            raise HTTPException(404, "no such format: csv, json or html")
        sub = filer_submission(s.user, sid)
        path = home.reports / "edit" / f"{sid}.{fmt}"
        if sub.get("pending") or not path.is_file():
            raise HTTPException(404, f"no edit report for {sid} yet")
        log(s.user, "download", f"{sid}.{fmt}", via="portal")
        return FileResponse(path, media_type=REPORT_TYPES[fmt], filename=path.name)

    @app.post("/filer/submissions/{sid}/acknowledgements", include_in_schema=False)
    async def filer_acknowledge(request: Request, sid: str) -> Response:
        s = require(request, "filer")
        form = await form_of(request, s)
        sub = await run_in_threadpool(filer_submission, s.user, sid)
        rule_id = str(form.get("rule_id") or "").strip()[:20]
        reason = str(form.get("reason") or "").strip()[:2000]
        from pipelines.quality.catalog import load_catalog

        rule = load_catalog().get(rule_id)
        problem = None
        if rule is None:
            problem = f"unknown rule {rule_id!r}"
        elif rule.severity != "warning":
            problem = f"{rule_id} is an error, not a warning: correct the data and resubmit as a new version"
        elif sub.get("pending"):
            problem = f"{sid} is not validated yet"
        elif not reason:
            problem = "the reason is empty: say why the warning is correct"
        elif any(a["rule_id"] == rule_id for a in sub["acknowledgements"]) or any(
            r.rule_id == rule_id for r in queue.pending(home, sid)
        ):
            problem = f"{rule_id} on {sid} is acknowledged (or pending) already"
        else:
            report = edit_report(sid) or {}
            if not report.get("counts_by_rule", {}).get(rule_id):
                problem = f"{sid} has no finding of {rule_id}: nothing to acknowledge"
        if problem:
            return render(request, "message.html", s, 422, title="Acknowledgement refused", message=problem)
        req = queue.enqueue_acknowledgement(
            home, sid, rule_id, reason, s.user.username, s.user.role, s.user.enterprise_id
        )
        log(s.user, "acknowledge", sid, via="portal", rule_id=rule_id, request_id=req.request_id)
        return RedirectResponse(f"/filer/submissions/{sid}", status_code=303)

    # --- analyst ----------------------------------------------------------------------------------------

    @app.get("/analyst", include_in_schema=False)
    def analyst_home(
        request: Request,
        period: str = "",
        family: str = "",
        severity: str = "",
        enterprise: str = "",
        indicator: str = "",
    ) -> HTMLResponse:
        s = require(request, "analyst")
        with snapshot(s.user) as con:
            if con is None:
                return render(
                    request, "message.html", s, title="Nothing published yet", message="No snapshot yet."
                )
            filters, params = ["true"], []
            for col, val in (
                ("period", period),
                ("family", family),
                ("severity", severity),
                ("indicator_id", indicator),
            ):
                if val:
                    filters.append(f"{col} = ?")
                    params.append(val)
            if enterprise:
                filters.append("(enterprise_id ilike ? )")
                params.append(f"%{enterprise}%")
            where = " and ".join(filters)
            alerts = rows(
                con,
                "select alert_id, enterprise_id, period, indicator_id, indicator_name, family, severity, metric, "
                f"dimension_value, value, threshold, message from marts.fct_alerts where {where} "
                "order by period desc, severity, enterprise_id, indicator_id limit ?",
                [*params, ROW_LIMIT + 1],
            )
            (total,) = con.execute(
                f"select count(*) from marts.fct_alerts where {where}", params
            ).fetchone() or (0,)
            by_family = rows(
                con,
                f"select family, severity, count(*) as alerts from marts.fct_alerts where {where} group by all order by 1, 2",
                params,
            )
            options = {
                "periods": periods(con),
                "families": [
                    r[0]
                    for r in con.execute("select distinct family from seeds.indicators order by 1").fetchall()
                ],
                "indicators": [
                    r[0]
                    for r in con.execute("select indicator_id from seeds.indicators order by 1").fetchall()
                ],
            }
        return render(
            request,
            "analyst_home.html",
            s,
            alerts=alerts[:ROW_LIMIT],
            more=len(alerts) > ROW_LIMIT,
            total=total,
            f={
                "period": period,
                "family": family,
                "severity": severity,
                "enterprise": enterprise,
                "indicator": indicator,
            },
            options=options,
            main_chart=charts.counts("Alerts by family", by_family, "family", "alerts", colour="severity")
            if by_family
            else None,
        )

    @app.get("/analyst/enterprises", include_in_schema=False)
    def analyst_enterprises(request: Request, q: str = "") -> HTMLResponse:
        s = require(request, "analyst")
        with snapshot(s.user) as con:
            found = (
                rows(
                    con,
                    """select e.enterprise_id, e.name, e.ent_type, e.province_code, e.last_period,
                              (select max(score) from marts.fct_risk_scores r where r.enterprise_id = e.enterprise_id
                                 and r.period = e.last_period) as score,
                              (select count(*) from marts.fct_alerts a where a.enterprise_id = e.enterprise_id) as alerts
                       from marts.dim_enterprises e
                       where e.is_current and (? = '' or e.enterprise_id ilike ? or e.name ilike ? or e.uscc ilike ?)
                       order by score desc nulls last, e.enterprise_id limit ?""",
                    [q, f"%{q}%", f"%{q}%", f"%{q}%", ROW_LIMIT],
                )
                if con is not None
                else []
            )
        return render(request, "analyst_enterprises.html", s, q=q, enterprises=found)

    @app.get("/analyst/enterprises/{eid}", include_in_schema=False)
    def analyst_enterprise(request: Request, eid: str) -> HTMLResponse:
        s = require(request, "analyst")
        with snapshot(s.user) as con:
            if con is None:
                raise HTTPException(404, "nothing published yet")
            found = rows(
                con, "select * from marts.dim_enterprises where enterprise_id = ? and is_current", [eid]
            )
            if not found:
                raise HTTPException(404, f"no enterprise {eid}")
            ent = found[0]
            series = rows(
                con,
                """with v as (
                       select enterprise_id, period, indicator_id, metric,
                              arg_max(value, as_of_date) as value, arg_max(threshold, as_of_date) as threshold
                       from marts.fct_indicator_values
                       where dimension is null and value is not null and isfinite(value)
                         and enterprise_id in (select enterprise_id from marts.dim_enterprises
                                               where is_current and ent_type = ?)
                       group by all),
                   peers as (
                       select period, indicator_id, metric, quantile_cont(value, 0.1) as peer_low,
                              quantile_cont(value, 0.9) as peer_high, count(*) as peers
                       from v group by all)
                   select v.indicator_id, v.metric, v.period, v.value, v.threshold, p.peer_low, p.peer_high, p.peers
                   from v join peers p using (period, indicator_id, metric)
                   where v.enterprise_id = ? order by 1, 2, 3""",
                [ent["ent_type"], eid],
            )
            alerts = rows(
                con,
                "select alert_id, period, indicator_id, indicator_name, family, severity, value, threshold, message "
                "from marts.fct_alerts where enterprise_id = ? order by period desc, severity, indicator_id",
                [eid],
            )
            filings = rows(
                con,
                "select submission_id, period, version, status, status_reason, received_at from intake.submissions "
                "where enterprise_id = ? order by period desc, version desc",
                [eid],
            )
            timeliness = rows(
                con,
                "select period, timeliness_status, days_late, versions_received from marts.fct_filing_timeliness "
                "where enterprise_id = ? order by period desc",
                [eid],
            )
            risk = rows(
                con,
                "select period, max(score) as score from marts.fct_risk_scores where enterprise_id = ? group by 1 order by 1",
                [eid],
            )
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for r in series:
            groups.setdefault((r["indicator_id"], r["metric"]), []).append(r)
        alerted = {a["indicator_id"] for a in alerts}
        indicator_charts = [
            {
                "indicator_id": ind,
                "metric": metric,
                "alerted": ind in alerted,
                "spec": charts.time_series(f"{ind} · {metric}", rs),
            }
            for (ind, metric), rs in sorted(groups.items(), key=lambda kv: (kv[0][0] not in alerted, kv[0]))
        ]
        return render(
            request,
            "analyst_enterprise.html",
            s,
            ent=ent,
            alerts=alerts,
            filings=filings,
            timeliness=timeliness,
            indicator_charts=indicator_charts,
            risk_chart=charts.time_series(
                "Risk score", [{"period": r["period"], "value": r["score"]} for r in risk]
            )
            if risk
            else None,
        )

    def evidence_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
        return [
            t
            for (t,) in con.execute(
                """select table_name from duckdb_columns() where schema_name = 'marts' and table_name like '%_evidence'
                   group by 1 having count(*) filter (where column_name in ('enterprise_id', 'period', 'indicator_id')) = 3
                   order by 1"""
            ).fetchall()
        ]

    @app.get("/analyst/alerts/{alert_id}", include_in_schema=False)
    def analyst_alert(request: Request, alert_id: str) -> HTMLResponse:
        s = require(request, "analyst")
        with snapshot(s.user) as con:
            if con is None:
                raise HTTPException(404, "nothing published yet")
            found = rows(
                con, "select * exclude (computed_at) from marts.fct_alerts where alert_id = ?", [alert_id]
            )
            if not found:
                raise HTTPException(404, f"no alert {alert_id}")
            alert = found[0]
            key = [alert["enterprise_id"], alert["period"], alert["indicator_id"]]
            values = rows(
                con,
                "select * exclude (computed_at) from marts.fct_indicator_values where enterprise_id = ? and period = ? "
                "and indicator_id = ? and status in ('BREACH', 'WARN') order by as_of_date nulls first, metric, "
                "dimension_value limit ?",
                [*key, ROW_LIMIT],
            )
            evidence = []
            for t in evidence_tables(con):
                ev = rows(
                    con,
                    f'select * from marts."{t}" where enterprise_id = ? and period = ? and indicator_id = ? limit ?',
                    [*key, ROW_LIMIT],
                )
                if ev:
                    evidence.append({"table": f"marts.{t}", "rows": ev})
        return render(request, "analyst_alert.html", s, alert=alert, values=values, evidence=evidence)

    @app.get("/analyst/indicators/{indicator_id}", include_in_schema=False)
    def analyst_indicator(
        request: Request, indicator_id: str, period: str = "", metric: str = "", q: str = "", peers: str = ""
    ) -> HTMLResponse:
        s = require(request, "analyst")
        with snapshot(s.user) as con:
            if con is None:
                raise HTTPException(404, "nothing published yet")
            ind = rows(con, "select * from seeds.indicators where indicator_id = ?", [indicator_id])
            if not ind:
                raise HTTPException(404, f"no indicator {indicator_id}")
            ps = [
                r[0]
                for r in con.execute(
                    "select distinct period from marts.fct_indicator_values where indicator_id = ? order by 1 desc",
                    [indicator_id],
                ).fetchall()
            ]
            period = period if period in ps else (ps[0] if ps else "")
            metrics = [
                r[0]
                for r in con.execute(
                    "select distinct metric from marts.fct_indicator_values where indicator_id = ? and period = ? "
                    "and dimension is null order by 1",
                    [indicator_id, period],
                ).fetchall()
            ]
            metric = metric if metric in metrics else (metrics[0] if metrics else "")
            values = rows(
                con,
                """select v.enterprise_id, e.name, e.ent_type, arg_max(v.value, v.as_of_date) as value,
                          arg_max(v.threshold, v.as_of_date) as threshold, arg_max(v.status, v.as_of_date) as status
                   from marts.fct_indicator_values v left join marts.dim_enterprises e
                     on e.enterprise_id = v.enterprise_id and e.is_current
                   where v.indicator_id = ? and v.period = ? and v.metric = ? and v.dimension is null
                     and v.value is not null and isfinite(v.value)
                   group by all order by value desc, enterprise_id""",
                [indicator_id, period, metric],
            )
        peer_types = sorted({v["ent_type"] for v in values if v["ent_type"]})
        if peers in peer_types:  # the peer group: enterprises of one type
            values = [v for v in values if v["ent_type"] == peers]
        else:
            peers = ""
        thresholds = [v["threshold"] for v in values if v["threshold"] is not None]
        threshold = max(set(thresholds), key=thresholds.count) if thresholds else None
        shown = (
            [v for v in values if q.lower() in (v["enterprise_id"] + " " + (v["name"] or "")).lower()]
            if q
            else values
        )
        return render(
            request,
            "analyst_indicator.html",
            s,
            ind=ind[0],
            period=period,
            periods=ps,
            metric=metric,
            metrics=metrics,
            q=q,
            peers=peers,
            peer_types=peer_types,
            count=len(values),
            top=shown[:TOP_N],
            bottom=shown[-5:] if len(shown) > TOP_N else [],
            matched=len(shown),
            dist=charts.histogram(
                f"{indicator_id} {metric}: distribution over {len(values)} enterprises",
                values,
                "value",
                threshold,
            )
            if values
            else None,
            top_chart=charts.top_bars(f"Top {TOP_N} enterprises", shown, "enterprise_id", "value", TOP_N)
            if shown
            else None,
        )

    @app.get("/analyst/sql", include_in_schema=False)
    def analyst_sql_form(request: Request) -> HTMLResponse:
        s = require(request, "analyst")
        return render(
            request,
            "analyst_sql.html",
            s,
            sql="select * from marts.fct_alerts limit 20",
            result=None,
            error=None,
        )

    @app.post("/analyst/sql", include_in_schema=False)
    async def analyst_sql(request: Request) -> Response:
        s = require(request, "analyst")
        form = await form_of(request, s)
        sql = str(form.get("sql") or "")
        fmt = str(form.get("format") or "")
        digest = hashlib.sha256(sql.encode()).hexdigest()[:16]
        try:
            if fmt in ("csv", "parquet"):
                data, media = await run_in_threadpool(sqlpage.export, home, sql, fmt)
                await run_in_threadpool(
                    log,
                    s.user,
                    "query",
                    None,
                    via="portal",
                    sql=sql[:4000],
                    sha=digest,
                    download=fmt,
                    bytes=len(data),
                )
                return Response(
                    data,
                    media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="query-{digest}.{fmt}"'},
                )
            result = await run_in_threadpool(sqlpage.run, home, sql)
        except sqlpage.QueryRefused as exc:
            await run_in_threadpool(
                log,
                s.user,
                "query_refused",
                None,
                via="portal",
                sql=sql[:4000],
                sha=digest,
                reason=str(exc)[:500],
            )
            return render(request, "analyst_sql.html", s, 400, sql=sql, result=None, error=str(exc))
        await run_in_threadpool(
            log, s.user, "query", None, via="portal", sql=sql[:4000], sha=digest, rows=len(result.rows)
        )
        return render(request, "analyst_sql.html", s, sql=sql, result=result, error=None)

    # --- auditor ----------------------------------------------------------------------------------------

    @app.get("/auditor", include_in_schema=False)
    def auditor_home(request: Request, period: str = "") -> HTMLResponse:
        s = require(request, "auditor")
        with snapshot(s.user) as con:
            if con is None:
                return render(
                    request, "message.html", s, title="Nothing published yet", message="No snapshot yet."
                )
            ps = periods(con)
            period = period if period in ps else (ps[0] if ps else "")
            hit_rates = rows(
                con,
                """select h.rule_id, c.title, c.severity, h.stage, sum(h.submissions_evaluated) as evaluated,
                          sum(h.submissions_with_findings) as with_findings,
                          sum(h.submissions_with_findings) / nullif(sum(h.submissions_evaluated), 0) as hit_rate,
                          sum(h.findings_total) as findings
                   from marts.fct_rule_hit_rates h left join seeds.rule_catalog c using (rule_id)
                   where h.period = ? group by all order by hit_rate desc nulls last, findings desc, rule_id""",
                [period],
            )
            quality = rows(
                con,
                "select submission_id, enterprise_id, version, status, error_rules, warning_rules, error_findings, "
                "warning_findings, quality_score from marts.fct_submission_quality where period = ? "
                "order by quality_score nulls first, enterprise_id limit ?",
                [period, ROW_LIMIT],
            )
            statuses = rows(
                con,
                "select status, count(*) as submissions from intake.submissions where period = ? group by 1 order by 2 desc",
                [period],
            )
            publication = rows(con, "select * from meta.publication")
        hit = [r for r in hit_rates if r["with_findings"]]
        return render(
            request,
            "auditor_home.html",
            s,
            period=period,
            periods=ps,
            hit_rates=hit_rates,
            quality=quality,
            statuses=statuses,
            publication=publication[0] if publication else None,
            main_chart=charts.top_bars(
                "Rules with findings: hit rate (share of submissions)", hit, "rule_id", "hit_rate", TOP_N
            )
            if hit
            else None,
        )

    @app.get("/auditor/audit-log", include_in_schema=False)
    def auditor_audit_log(request: Request) -> HTMLResponse:
        s = require(request, "auditor")
        from pipelines.intake import audit

        with snapshot(s.user) as con:
            if con is None:
                raise HTTPException(404, "nothing published yet")
            intake_check = audit.verify_home(home.root, con, snapshot=True)
            intake_entries = rows(
                con,
                'select seq, "at", action, submission_id, actor, detail::varchar as detail, hash from intake.audit_log '
                "order by seq desc limit ?",
                [ROW_LIMIT],
            )
        access_check = access_log.verify(home)
        log(s.user, "read", "audit-log", via="portal")
        return render(
            request,
            "auditor_audit_log.html",
            s,
            intake_check=intake_check,
            access_check=access_check,
            intake_entries=intake_entries,
            access_entries=access_log.entries(home, ROW_LIMIT),
        )

    @app.get("/auditor/trace", include_in_schema=False)
    def auditor_trace(
        request: Request, enterprise: str = "", indicator: str = "", period: str = "", metric: str = ""
    ) -> HTMLResponse:
        s = require(request, "auditor")
        with snapshot(s.user) as con:
            if con is None:
                raise HTTPException(404, "nothing published yet")
            values = []
            submission = None
            files: list[dict[str, Any]] = []
            raw_counts: list[dict[str, Any]] = []
            if enterprise and indicator and period:
                params = [enterprise, indicator, period]
                extra = ""
                if metric:
                    extra = " and metric = ?"
                    params.append(metric)
                values = rows(
                    con,
                    "select metric, as_of_date, dimension, dimension_value, value, numerator, denominator, threshold, "
                    "status from marts.fct_indicator_values where enterprise_id = ? and indicator_id = ? and period = ?"
                    f"{extra} order by metric, as_of_date nulls first, dimension_value limit ?",
                    [*params, ROW_LIMIT],
                )
                current = rows(
                    con,
                    "select submission_id, version, status, status_reason, received_at, archive_path from intake.submissions "
                    "where enterprise_id = ? and period = ? and status in ('ACCEPTED', 'ACCEPTED_WITH_WARNINGS') "
                    "order by version desc limit 1",
                    [enterprise, period],
                )
                if current:
                    submission = current[0]
                    files = rows(
                        con,
                        "select filing_type, path, sha256, bytes, row_count from intake.files where submission_id = ? order by path",
                        [submission["submission_id"]],
                    )
                    for f in files:
                        t = f["filing_type"]
                        if has_table(con, "raw", t):
                            (n,) = con.execute(
                                f'select count(*) from raw."{t}" where submission_id = ?',
                                [submission["submission_id"]],
                            ).fetchone() or (0,)
                            raw_counts.append({"filing_type": t, "rows": n})
            options = {
                "enterprises": [
                    r[0]
                    for r in con.execute(
                        "select distinct enterprise_id from intake.submissions order by 1"
                    ).fetchall()
                ],
                "indicators": [
                    r[0]
                    for r in con.execute("select indicator_id from seeds.indicators order by 1").fetchall()
                ],
                "periods": periods(con),
            }
        log(s.user, "read", "trace", via="portal", enterprise=enterprise, indicator=indicator, period=period)
        return render(
            request,
            "auditor_trace.html",
            s,
            q={"enterprise": enterprise, "indicator": indicator, "period": period, "metric": metric},
            options=options,
            values=values,
            submission=submission,
            files=files,
            raw_counts=raw_counts,
        )

    @app.get("/auditor/submissions/{sid}/rows/{filing_type}", include_in_schema=False)
    def auditor_rows(request: Request, sid: str, filing_type: str) -> HTMLResponse:
        s = require(request, "auditor")
        if not SAFE_NAME.match(filing_type):
            raise HTTPException(404, "no such filing type")
        with snapshot(s.user) as con:
            if con is None or not has_table(con, "raw", filing_type):
                raise HTTPException(404, f"no raw table {filing_type}")
            found = rows(
                con,
                f'select * from raw."{filing_type}" where submission_id = ? order by _row limit ?',
                [sid, ROW_LIMIT],
            )
            (total,) = con.execute(
                f'select count(*) from raw."{filing_type}" where submission_id = ?', [sid]
            ).fetchone() or (0,)
        log(s.user, "read", f"{sid}/{filing_type}", via="portal")
        return render(
            request, "table.html", s, title=f"raw.{filing_type} rows of {sid}", rows=found, total=total
        )

    @app.get("/auditor/archive/{sid}/{name}", include_in_schema=False)
    def auditor_archive(request: Request, sid: str, name: str) -> Response:
        """The archived bytes of one file of a submission, checked against the sha256 the intake recorded."""
        s = require(request, "auditor")
        if not SAFE_NAME.match(name) or not SUBMISSION_ID.match(sid):
            raise HTTPException(404, "no such file")
        with snapshot(s.user) as con:
            if con is None:
                raise HTTPException(404, "nothing published yet")
            sub = rows(con, "select archive_path from intake.submissions where submission_id = ?", [sid])
            meta = rows(
                con, "select sha256 from intake.files where submission_id = ? and path = ?", [sid, name]
            )
        if not sub or not sub[0]["archive_path"] or (not meta and name != "manifest.json"):
            raise HTTPException(404, f"no archived file {name} of {sid}")
        folder = (home.root / sub[0]["archive_path"]).resolve()
        path = (folder / name).resolve()
        if (
            path.parent != folder
            or not str(folder).startswith(str(home.root.resolve() / "archive"))
            or not path.is_file()
        ):
            raise HTTPException(404, f"no archived file {name} of {sid}")
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if meta and meta[0]["sha256"] != digest:
            raise HTTPException(
                409, f"the archived bytes of {name} do not match the sha256 the intake recorded"
            )
        log(s.user, "download", f"{sid}/{name}", via="portal", sha256=digest)
        return Response(
            data,
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Content-SHA256": digest},
        )

    # --- regulator --------------------------------------------------------------------------------------

    @app.get("/regulator", include_in_schema=False)
    def regulator_home(request: Request, period: str = "") -> HTMLResponse:
        s = require(request, "regulator")
        with snapshot(s.user) as con:
            if con is None:
                return render(
                    request, "message.html", s, title="Nothing published yet", message="No snapshot yet."
                )
            ps = [
                r[0]
                for r in con.execute(
                    "select distinct period from marts.fct_filing_timeliness order by 1 desc"
                ).fetchall()
            ]
            closed = [
                r[0]
                for r in con.execute(
                    "select distinct period from marts.fct_filing_timeliness where is_closed order by 1 desc"
                ).fetchall()
            ]
            default = closed[0] if closed else (ps[0] if ps else "")
            period = period if period in ps else default
            calendar = rows(
                con,
                """select t.enterprise_id, e.name, t.ent_type, t.timeliness_status as status, t.days_late,
                          t.versions_received, t.current_submission_id, t.due_at, t.is_missing_at_close
                   from marts.fct_filing_timeliness t left join marts.dim_enterprises e
                     on e.enterprise_id = t.enterprise_id and e.is_current
                   where t.period = ?
                   order by case t.timeliness_status when 'missing' then 0 when 'late' then 1 when 'pending' then 2
                            else 3 end, t.days_late desc nulls last, t.enterprise_id""",
                [period],
            )
            risk_period = (
                con.execute("select max(period) from marts.fct_risk_scores").fetchone() or (None,)
            )[0]
            ranking = rows(
                con,
                """select r.enterprise_id, e.name, r.ent_type, max(r.score) as score, sum(r.breaches) as breaches,
                          sum(r.warnings) as warnings
                   from marts.fct_risk_scores r left join marts.dim_enterprises e
                     on e.enterprise_id = r.enterprise_id and e.is_current
                   where r.period = ? group by all order by score desc, enterprise_id""",
                [risk_period],
            )
            cycles = rows(
                con,
                """select p.seq, p."at" as as_of, p.detail::varchar as detail,
                          (select count(*) from intake.submission_events e
                            where e.event_at <= p."at" and e.event_at > coalesce((select max(q."at")
                              from intake.audit_log q where q.action = 'published' and q.seq < p.seq),
                              timestamptz '1970-01-01')) as events
                   from intake.audit_log p where p.action = 'published' order by p.seq desc limit 10""",
            )
        counts: dict[str, int] = {}
        for r in calendar:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        timings = _dbt_timings(home)
        log(s.user, "read", "regulator", via="portal", period=period)
        return render(
            request,
            "regulator_home.html",
            s,
            period=period,
            periods=ps,
            calendar=calendar,
            counts=counts,
            ranking=ranking[:50],
            risk_period=risk_period,
            enterprises=len(ranking),
            cycles=cycles,
            timings=timings,
            calendar_chart=charts.stacked_status(
                f"Filings for {period}: expected {len(calendar)}",
                [{"status": k, "enterprises": v} for k, v in counts.items()],
            )
            if counts
            else None,
            risk_chart=charts.histogram(
                f"Risk scores {risk_period} over {len(ranking)} enterprises", ranking, "score"
            )
            if ranking
            else None,
            top_chart=charts.top_bars(f"Top {TOP_N} by risk score", ranking, "enterprise_id", "score", TOP_N)
            if ranking
            else None,
        )

    # --- every other page: a session first, then 404 ------------------------------------------------------

    @app.api_route("/{rest:path}", methods=["GET", "POST"], include_in_schema=False)
    def unknown_page(request: Request, rest: str) -> Response:
        s = session_of(request)
        raise HTTPException(404, f"no page /{rest}: start from {ROLE_HOME[s.user.role]}")


class _ChosenFiles:
    """The form's `package` and `files` parts without the empty part a browser sends for a file input left
    unchosen."""

    def __init__(self, form: Any):
        self.form = form

    def getlist(self, key: str) -> list:
        if key not in ("package", "files"):
            return []
        return [p for p in self.form.getlist(key) if isinstance(p, str) or p.filename or (p.size or 0) > 0]


def _text(value: Any) -> str | None:
    """A form field's text (None for a missing field or a file part)."""
    return value if isinstance(value, str) else None


def _dbt_timings(home: Home) -> dict[str, Any] | None:
    """The last dbt run's elapsed time and outcomes (dbt's run_results.json, written by the cycle)."""
    path = home.root / "dbt" / "target" / "run_results.json"
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    outcomes: dict[str, int] = {}
    for r in doc.get("results", []):
        outcomes[r.get("status", "?")] = outcomes.get(r.get("status", "?"), 0) + 1
    return {
        "elapsed": doc.get("elapsed_time"),
        "generated_at": doc.get("metadata", {}).get("generated_at"),
        "outcomes": outcomes,
    }
