"""What every page of the portal shares: the constants, the query helpers and `Web`, the per-app context
(templates, sessions, access log, snapshots) that the role modules register their pages with.

One way to do each thing:
- `Web.current` / `Web.session_of` / `Web.require`: the session of a request (none; else 303 to /login;
  else 403 for another role's page).
- `Web.form_of` / `check_csrf`: a POSTed form and its CSRF token (403 when missing or wrong).
- `Web.render`: a page from its template; `Web.nothing_published`: the page of a role home before the
  first snapshot.
- `Web.snapshot` (None when nothing is published) / `Web.published` (404 then): the role's snapshot.
- `rows`, `one_row` (404 when none), `column`, `scalar`, `has_table`: reads of a snapshot.
- `Web.log`: the access-log record of a page.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

import pipelines.reports.charts as charts
from pipelines.home import Home
from pipelines.portal import access_log
from pipelines.portal.uploads import Limits
from pipelines.portal.users import User, UserStore
from pipelines.portal.web.sessions import COOKIE, Session, Sessions, same_token
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
CSRF_REFUSED = "the form's CSRF token is missing or wrong: reload the page and try again"


class LoginRequired(Exception):
    """No valid session: the page answers 303 to /login."""


# --- reads of a snapshot --------------------------------------------------------------------------------


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def one_row(con: duckdb.DuckDBPyConnection, sql: str, params: list, missing: str) -> dict[str, Any]:
    """The first row of a query; 404 with `missing` when it finds none."""
    found = rows(con, sql, params)
    if not found:
        raise HTTPException(404, missing)
    return found[0]


def column(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[Any]:
    """The first column of every row of a query."""
    return [r[0] for r in con.execute(sql, params or []).fetchall()]


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None, default: Any = None) -> Any:
    """The first column of a query's first row (`default` when it has no row)."""
    (value,) = con.execute(sql, params or []).fetchone() or (default,)
    return value


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select 1 from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
        ).fetchone()
    )


def periods(con: duckdb.DuckDBPyConnection | None) -> list[str]:
    if con is None:
        return []
    return column(con, "select distinct period from intake.submissions order by 1 desc")


# --- forms ----------------------------------------------------------------------------------------------


def text(value: Any) -> str | None:
    """A form field's text (None for a missing field or a file part)."""
    return value if isinstance(value, str) else None


def check_csrf(s: Session, form: Any, detail: str = CSRF_REFUSED) -> None:
    """403 unless the form carries the session's CSRF token."""
    if not same_token(s.csrf, text(form.get("csrf"))):
        raise HTTPException(403, detail)


# --- templates ------------------------------------------------------------------------------------------


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["vl"] = charts.to_json  # the reports write the same text (charts.chart_div)
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


# --- the per-app context --------------------------------------------------------------------------------


class Web:
    """The portal of one app: its home, user store, upload limits, templates and sessions."""

    def __init__(self, home: Home, store: UserStore, limits: Limits):
        self.home = home
        self.store = store
        self.limits = limits
        self.env = _env()
        self.sessions = Sessions(home, store)
        self.dagster_url = os.environ.get("SUPTECH_DAGSTER_URL", DEFAULT_DAGSTER_URL)
        self.secure_cookie = os.environ.get("SUPTECH_SECURE_COOKIES", "") == "1"

    def log(self, user: User, action: str, target: str | None = None, **detail: Any) -> None:
        access_log.record(self.home, action, user.username, user.role, target, detail or None)

    def current(self, request: Request) -> Session | None:
        """The request's session, or None."""
        return self.sessions.load(request.cookies.get(COOKIE))

    def session_of(self, request: Request) -> Session:
        s = self.current(request)
        if s is None:
            raise LoginRequired()
        return s

    def require(self, request: Request, *roles: str) -> Session:
        s = self.session_of(request)
        if roles and s.user.role not in roles:
            raise HTTPException(
                403, f"this page is for {', '.join(roles)}; you are signed in as {s.user.role}"
            )
        return s

    async def form_of(self, request: Request, s: Session) -> Any:
        form = await request.form(max_fields=20, max_files=0)
        check_csrf(s, form)
        return form

    def render(
        self, request: Request, template: str, s: Session | None, status: int = 200, **ctx: Any
    ) -> HTMLResponse:
        page = self.env.get_template(template).render(
            user=s.user if s else None,
            csrf=s.csrf if s else None,
            role_home=ROLE_HOME,
            dagster_url=self.dagster_url,
            path=request.url.path,
            **ctx,
        )
        return HTMLResponse(page, status_code=status)

    def nothing_published(self, request: Request, s: Session) -> HTMLResponse:
        """A role's home page before the first snapshot."""
        return self.render(
            request, "message.html", s, title="Nothing published yet", message="No snapshot yet."
        )

    @contextlib.contextmanager
    def snapshot(self, user: User) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """The published snapshot of the user's role (None when nothing is published yet)."""
        try:
            con = connect_reader(self.home, SNAPSHOT_OF_ROLE[user.role])  # type: ignore[arg-type]
        except FileNotFoundError:
            yield None
            return
        try:
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def published(self, user: User) -> Iterator[duckdb.DuckDBPyConnection]:
        """The published snapshot of the user's role; 404 when nothing is published yet."""
        with self.snapshot(user) as con:
            if con is None:
                raise HTTPException(404, "nothing published yet")
            yield con
