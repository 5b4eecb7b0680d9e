"""The filing API (FastAPI): filers upload packages and follow their submissions; regulators and auditors read.

`create_app(home)` builds the app. Every `/api/...` path needs `Authorization: Bearer <token>` (401
otherwise); only `/health`, `/static/...`, `/openapi.json`, `/docs` and `/redoc` answer without one. A filer
sees only its own enterprise's submissions: every id is checked against the enterprise, and another
enterprise's id answers 404 exactly like an unknown one (no probing). Analysts have no business here (403).

Reads come only from the published auditor snapshot (status, events, acknowledgements: filed ids, the
filer's own data), the landing area (uploads not yet taken in) and `<home>/reports/edit/`, so a running
cycle never blocks the API. Writes never touch the warehouse: uploads land in `landing/` (uploads.py) and
acknowledgements are queued for the next cycle (queue.py). Each call is recorded in the access log.
See docs/filing-api.md.
"""

import contextlib
import html
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import duckdb
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from pipelines.home import Home
from pipelines.intake.manifest import MANIFEST_NAME
from pipelines.intake.package import SUBMISSION_ID
from pipelines.portal import access_log, queue, uploads
from pipelines.portal.uploads import Limits, UploadRefused
from pipelines.portal.users import User, UserStore
from pipelines.warehouse.db import connect_reader

OPEN_PATHS = ("/health", "/openapi.json", "/docs", "/redoc")
OPEN_PREFIXES = ("/static/",)
FILING_ROLES = ("filer", "regulator", "auditor")
REPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "html": "text/html; charset=utf-8",
}

CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
# The docs pages' libraries set styles inline and ReDoc runs a worker from a blob; scripts stay 'self'.
DOCS_CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


class SecurityHeaders:
    """Pure ASGI middleware: CSP without inline script, no framing, no sniffing, no referrer, on every
    response (errors included)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"] in ("/docs", "/redoc") else CSP

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                headers += SECURITY_HEADERS + [(b"content-security-policy", csp.encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class AcknowledgementIn(BaseModel):
    rule_id: str = Field(min_length=1, max_length=20, examples=["Q001"])
    reason: str = Field(min_length=1, max_length=2000, examples=["campaign month: round top-ups are real"])


def _vendor_static() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


SWAGGER_INIT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", validatorUrl: null,
    deepLinking: true, persistAuthorization: false});
});
"""

DOCS_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui.css"></head>
<body><div id="swagger-ui"></div><script src="/static/vendor/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script></body></html>"""

REDOC_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><redoc spec-url="/openapi.json"></redoc><script src="/static/vendor/redoc.standalone.js"></script>
</body></html>"""


def create_app(home: Home | str | Path | None = None, limits: Limits | None = None) -> FastAPI:
    home = home if isinstance(home, Home) else Home.resolve(home)
    limits = limits or Limits.from_env()
    store = UserStore(home)
    app = FastAPI(
        title="SupTech Warehouse filing API",
        version="1",
        description="Upload filing packages, follow their status, download edit reports, acknowledge "
        "warnings. Authenticate with `Authorization: Bearer <token>` (docs/filing-api.md).",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.home = home
    app.state.limits = limits
    app.add_middleware(SecurityHeaders)
    bearer = HTTPBearer(auto_error=False, description="The API token given by `suptech users add`.")

    def current_user(creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> User:
        if creds is None:
            raise HTTPException(
                401,
                "authentication required: send the header Authorization: Bearer <token>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        user = store.authenticate_token(creds.credentials)
        if user is None:
            raise HTTPException(
                401,
                "the token is not valid (unknown, replaced by reset-token, or its user disabled): ask the "
                "operator for a new one",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return user

    def filing_user(user: Annotated[User, Depends(current_user)]) -> User:
        if user.role not in FILING_ROLES:
            raise HTTPException(
                403, f"the filing API is for filers, regulators and auditors; role {user.role} has no access"
            )
        return user

    def log(user: User, action: str, target: str | None = None, **detail: Any) -> None:
        access_log.record(home, action, user.username, user.role, target, detail or None)

    # --- open paths -----------------------------------------------------------------------------------

    @app.get("/health", tags=["service"])
    def health() -> dict[str, Any]:
        """Liveness, and whether a published snapshot exists (no authentication)."""
        from pipelines.warehouse.db import snapshot_path

        return {"status": "ok", "snapshot": snapshot_path(home, "auditor").exists()}

    @app.get("/static/swagger-init.js", include_in_schema=False)
    def swagger_init() -> Response:
        return Response(SWAGGER_INIT, media_type="application/javascript")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE.format(title=html.escape(app.title)))

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return HTMLResponse(REDOC_PAGE.format(title=html.escape(app.title)))

    app.mount("/static/vendor", StaticFiles(directory=_vendor_static()), name="vendor")

    # --- reading --------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def snapshot() -> Iterator[duckdb.DuckDBPyConnection | None]:
        try:
            con = connect_reader(home, "auditor")
        except FileNotFoundError:
            yield None  # nothing published yet: only uploads in landing exist
            return
        try:
            yield con
        finally:
            con.close()

    def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict[str, Any]]:
        cur = con.execute(sql, params)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    SUBMISSION_COLUMNS = (
        "submission_id, enterprise_id, period, version, supersedes, status, status_reason, status_at, "
        "received_at, submitted_at"
    )

    def landed(enterprise_id: str | None, known: set[str]) -> list[dict[str, Any]]:
        return landed_uploads(home, enterprise_id, known)

    def find(user: User, submission_id: str) -> dict[str, Any]:
        """The submission if this user may see it; 404 for unknown ids and other enterprises' alike."""
        with snapshot() as con:
            if con is not None:
                sql = f"select {SUBMISSION_COLUMNS} from intake.submissions where submission_id = ?"
                params: list = [submission_id]
                if user.role == "filer":
                    sql += " and enterprise_id = ?"
                    params.append(user.enterprise_id)
                found = rows(con, sql, params)
                if found:
                    sub = found[0]
                    sub["pending"] = False
                    sub["events"] = rows(
                        con,
                        "select status, event_at, reason from intake.submission_events "
                        "where submission_id = ? order by event_at, event_id",
                        [submission_id],
                    )
                    sub["acknowledgements"] = rows(
                        con,
                        "select rule_id, reason, acknowledged_by, acknowledged_at from intake.acknowledgements "
                        "where submission_id = ? order by acknowledged_at, rule_id",
                        [submission_id],
                    )
                    return sub
        m = SUBMISSION_ID.match(submission_id)
        if m and (user.role != "filer" or m.group(1) == user.enterprise_id):
            waiting = landed(m.group(1), set())
            match = [w for w in waiting if w["submission_id"] == submission_id]
            if match:
                return {**match[0], "events": [], "acknowledgements": []}
        raise HTTPException(404, f"no submission {submission_id} visible to you")

    @app.get("/api/v1/submissions", tags=["submissions"])
    def list_submissions(user: Annotated[User, Depends(filing_user)]) -> dict[str, Any]:
        """Your enterprise's submissions (filers) or all of them (regulators, auditors), with statuses;
        uploads not yet taken in appear as UPLOADED (pending)."""
        ent = user.enterprise_id if user.role == "filer" else None
        with snapshot() as con:
            subs: list[dict[str, Any]] = []
            if con is not None:
                sql = f"select {SUBMISSION_COLUMNS} from intake.submissions"
                params: list = []
                if ent is not None:
                    sql += " where enterprise_id = ?"
                    params.append(ent)
                subs = rows(con, sql + " order by received_at, submission_id", params)
        for s in subs:
            s["pending"] = False
        subs += landed(ent, {s["submission_id"] for s in subs})
        pend: dict[str, list[str]] = {}
        for req in queue.pending(home):
            pend.setdefault(req.submission_id, []).append(req.rule_id)
        for s in subs:
            s["pending_acknowledgements"] = pend.get(s["submission_id"], [])
        log(user, "list", ent or "*", count=len(subs))
        return {"submissions": subs}

    @app.get("/api/v1/submissions/{submission_id}", tags=["submissions"])
    def get_submission(submission_id: str, user: Annotated[User, Depends(filing_user)]) -> dict[str, Any]:
        """One submission with its lifecycle events, acknowledgements (recorded and pending) and reports."""
        sub = find(user, submission_id)
        sub["pending_acknowledgements"] = [
            {
                "request_id": r.request_id,
                "rule_id": r.rule_id,
                "reason": r.reason,
                "requested_at": r.requested_at,
            }
            for r in queue.pending(home, submission_id)
        ]
        sub["edit_reports"] = {
            fmt: f"/api/v1/submissions/{submission_id}/edit-report.{fmt}"
            for fmt in REPORT_TYPES
            if report_path(submission_id, fmt).is_file()
        }
        log(user, "read", submission_id)
        return sub

    def report_path(submission_id: str, fmt: str) -> Path:
        if "/" in submission_id or submission_id.startswith(".") or "\x00" in submission_id:
            return home.reports / "edit" / ".invalid"
        return home.reports / "edit" / f"{submission_id}.{fmt}"

    @app.get(
        "/api/v1/submissions/{submission_id}/edit-report.{fmt}",
        tags=["submissions"],
        response_class=FileResponse,
        responses={200: {"content": {t: {} for t in REPORT_TYPES.values()}}},
    )
    def edit_report(
        submission_id: str, fmt: str, user: Annotated[User, Depends(filing_user)]
    ) -> FileResponse:
        """The submission's edit report as csv, json or html (a download)."""
        if fmt not in REPORT_TYPES:
            raise HTTPException(404, f"no edit report format {fmt!r}: use csv, json or html")
        sub = find(user, submission_id)
        path = report_path(submission_id, fmt)
        if sub.get("pending") or not path.is_file():
            raise HTTPException(
                404, f"no edit report for {submission_id} yet: it is written when the submission is validated"
            )
        log(user, "download", f"{submission_id}.{fmt}")
        return FileResponse(path, media_type=REPORT_TYPES[fmt], filename=path.name)

    # --- writing --------------------------------------------------------------------------------------

    @app.post(
        "/api/v1/submissions/{submission_id}/acknowledgements",
        tags=["submissions"],
        status_code=202,
    )
    def acknowledge(
        submission_id: str, body: AcknowledgementIn, user: Annotated[User, Depends(filing_user)]
    ) -> dict[str, Any]:
        """Acknowledge a warning rule's findings on your submission, with a reason. Queued: the next cycle
        records it (an ACKNOWLEDGED event); meanwhile it is listed as pending."""
        if user.role != "filer":
            raise HTTPException(403, "only the filer acknowledges its own warnings")
        sub = find(user, submission_id)
        from pipelines.quality.catalog import load_catalog

        rule = load_catalog().get(body.rule_id)
        if rule is None:
            raise HTTPException(422, f"unknown rule {body.rule_id}: see the rule ids in your edit report")
        if rule.severity != "warning":
            raise HTTPException(
                422,
                f"{body.rule_id} is an error, not a warning: correct the data and resubmit as a new version",
            )
        if sub.get("pending"):
            raise HTTPException(
                409, f"{submission_id} is not validated yet: acknowledge after its edit report"
            )
        with snapshot() as con:
            assert con is not None  # the submission was found in it
            (n,) = con.execute(
                "select count(*) from quality.findings where submission_id = ? and rule_id = ? and not shadow",
                [submission_id, body.rule_id],
            ).fetchone() or (0,)
        if n == 0:
            raise HTTPException(
                422, f"{submission_id} has no finding of {body.rule_id}: nothing to acknowledge"
            )
        if any(a["rule_id"] == body.rule_id for a in sub["acknowledgements"]):
            raise HTTPException(409, f"{body.rule_id} on {submission_id} is acknowledged already")
        if any(r.rule_id == body.rule_id for r in queue.pending(home, submission_id)):
            raise HTTPException(
                409, f"an acknowledgement of {body.rule_id} on {submission_id} is pending already"
            )
        if not body.reason.strip():
            raise HTTPException(422, "the reason is empty: say why the warning is correct")
        req = queue.enqueue_acknowledgement(
            home, submission_id, body.rule_id, body.reason, user.username, user.role, user.enterprise_id
        )
        log(user, "acknowledge", submission_id, rule_id=body.rule_id, request_id=req.request_id)
        return {
            "request_id": req.request_id,
            "status": "PENDING",
            "submission_id": submission_id,
            "rule_id": body.rule_id,
            "detail": "queued: the next cycle records it",
        }

    @app.post(
        "/api/v1/submissions",
        tags=["submissions"],
        status_code=202,
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "A .zip or .tar.gz of the package folder as the body "
                "(Content-Type application/zip or application/gzip), or multipart/form-data with the "
                "archive in a part named `package`, or every file of the package (manifest.json included) "
                "in parts named `files`.",
                "content": {
                    "application/zip": {"schema": {"type": "string", "format": "binary"}},
                    "application/gzip": {"schema": {"type": "string", "format": "binary"}},
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "package": {"type": "string", "format": "binary"},
                                "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                            },
                        }
                    },
                },
            }
        },
    )
    async def upload(request: Request, user: Annotated[User, Depends(filing_user)]) -> JSONResponse:
        """Upload a package for your enterprise: checked, then placed in the landing area atomically."""
        if user.role != "filer":
            raise HTTPException(403, "only a filer uploads, for its own enterprise")
        length = request.headers.get("content-length")
        ctype = request.headers.get("content-type", "")
        try:
            if length is not None and int(length) > limits.max_upload_bytes + (1 << 20):
                raise uploads.too_large(limits)
            with uploads.staging_area(home) as area:
                if ctype.startswith("multipart/form-data"):
                    if length is None:
                        raise UploadRefused(411, "a multipart upload needs a Content-Length header")
                    async with request.form(max_files=limits.max_files + 1, max_fields=4) as form:
                        await receive_form(form, area, limits)
                else:
                    await _receive(request, area / "upload.bin", limits)
                    await run_in_threadpool(uploads.extract, area / "upload.bin", area / "package", limits)
                done = await run_in_threadpool(land_package, home, area / "package", user.enterprise_id or "")
        except UploadRefused as exc:
            await run_in_threadpool(log, user, "upload_refused", None, status=exc.status, reason=exc.message)
            raise HTTPException(exc.status, exc.message) from None
        await run_in_threadpool(log, user, "upload", done.submission_id, files=done.files, bytes=done.bytes)
        return JSONResponse(
            {
                "submission_id": done.submission_id,
                "status": "UPLOADED",
                "pending": True,
                "detail": "in the landing area: the next cycle takes it in; follow it at the location below",
                "location": f"/api/v1/submissions/{done.submission_id}",
            },
            status_code=202,
            headers={"Location": f"/api/v1/submissions/{done.submission_id}"},
        )

    async def _receive(request: Request, dest: Path, limits: Limits) -> None:
        size = 0
        with open(dest, "wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limits.max_upload_bytes:
                    raise uploads.too_large(limits)
                fh.write(chunk)
        if size == 0:
            raise UploadRefused(422, "the upload is empty: send the archive as the request body")

    # --- every other /api path: authentication first, then 404 ---------------------------------------

    @app.api_route(
        "/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
    )
    def unknown_api_path(rest: str, user: Annotated[User, Depends(current_user)]) -> None:
        raise HTTPException(404, f"no API path /api/{rest}: see /docs")

    from pipelines.portal.web.app import install

    install(app, home, store, limits)  # the portal's pages, and a session-guarded 404 for any other path
    return app


def landed_uploads(home: Home, enterprise_id: str | None, known: set[str]) -> list[dict[str, Any]]:
    """Uploads and drops waiting in landing/ (of one enterprise, or all), not yet in the snapshot."""
    out = []
    dirs = [home.landing / enterprise_id] if enterprise_id else sorted(home.landing.glob("*"))
    for d in dirs:
        if not d.is_dir() or d.is_symlink():
            continue
        for folder in sorted(d.iterdir()):
            if folder.name in known or not SUBMISSION_ID.match(folder.name):
                continue
            if folder.is_dir() and not folder.is_symlink() and (folder / MANIFEST_NAME).is_file():
                out.append(
                    {
                        "submission_id": folder.name,
                        "enterprise_id": d.name,
                        "status": "UPLOADED",
                        "pending": True,
                        "status_reason": "in the landing area: the next cycle takes it in",
                    }
                )
    return out


def land_package(home: Home, folder: Path, enterprise_id: str) -> uploads.Landed:
    """Move an extracted upload (staging) into the landing area for the uploader's enterprise."""
    if not folder.is_dir():
        raise UploadRefused(422, "the upload holds no files")
    return uploads.land(home, uploads.package_root(folder), enterprise_id)


async def receive_form(form: Any, area: Path, limits: Limits) -> None:
    """A multipart upload (one archive in `package`, or the files in `files`) extracted into area/package."""
    archives = form.getlist("package")
    files = form.getlist("files")
    if bool(archives) == bool(files) or len(archives) > 1:
        raise UploadRefused(
            422,
            "send either one archive in a part named 'package' or the package's files in parts named 'files'",
        )
    total = 0
    incoming = area / "incoming"
    incoming.mkdir()
    named: list[tuple[str, Path]] = []
    for i, part in enumerate(archives or files):
        if isinstance(part, str):
            raise UploadRefused(422, "a 'package' or 'files' part is text, not a file")
        dest = incoming / str(i)
        with open(dest, "wb") as fh:
            while chunk := await part.read(1 << 20):
                total += len(chunk)
                if total > limits.max_upload_bytes:
                    raise uploads.too_large(limits)
                fh.write(chunk)
        named.append((part.filename or "", dest))
    if archives:
        await run_in_threadpool(uploads.extract, named[0][1], area / "package", limits)
    else:
        await run_in_threadpool(uploads.place_files, named, area / "package", limits)


def is_open_path(path: str) -> bool:
    return path in OPEN_PATHS or any(path.startswith(p) for p in OPEN_PREFIXES)
