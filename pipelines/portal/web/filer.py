"""The filer's pages: its own enterprise's submissions, uploads, edit reports and acknowledgements.

A filer sees only its own enterprise: every submission fetched by id is checked against the user's enterprise
(another enterprise's id answers 404 like an unknown one).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from pipelines.intake.package import SUBMISSION_ID
from pipelines.portal import queue, uploads
from pipelines.portal.uploads import UploadRefused
from pipelines.portal.users import User
from pipelines.portal.web.common import SAFE_NAME, Web, check_csrf, rows


class _ChosenFiles:
    """The form's `package` and `files` parts without the empty part a browser sends for a file input left
    unchosen."""

    def __init__(self, form: Any):
        self.form = form

    def getlist(self, key: str) -> list:
        if key not in ("package", "files"):
            return []
        return [p for p in self.form.getlist(key) if isinstance(p, str) or p.filename or (p.size or 0) > 0]


def register(app: FastAPI, web: Web) -> None:
    home = web.home
    limits = web.limits

    def filer_submission(user: User, sid: str) -> dict[str, Any]:
        """The filer's own submission (snapshot or landing area); 404 for others' and unknown ids alike."""
        m = SUBMISSION_ID.match(sid)
        if m is None or m.group(1) != user.enterprise_id:
            raise HTTPException(404, f"no submission {sid} visible to you")
        with web.snapshot(user) as con:
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
        s = web.require(request, "filer")
        from pipelines.portal.api import landed_uploads

        with web.snapshot(s.user) as con:
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
        web.log(s.user, "list", s.user.enterprise_id, via="portal", count=len(subs) + len(waiting))
        return web.render(
            request,
            "filer_home.html",
            s,
            submissions=subs,
            waiting=waiting,
            max_bytes=limits.max_upload_bytes,
        )

    @app.post("/filer/upload", include_in_schema=False)
    async def filer_upload(request: Request) -> Response:
        s = web.require(request, "filer")
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
                    check_csrf(s, form, "the form's CSRF token is missing or wrong: reload the page")
                    await receive_form(_ChosenFiles(form), area, limits)
                done = await run_in_threadpool(
                    land_package, home, area / "package", s.user.enterprise_id or ""
                )
        except UploadRefused as exc:
            await run_in_threadpool(
                web.log, s.user, "upload_refused", None, via="portal", status=exc.status, reason=exc.message
            )
            if wants_json:
                return JSONResponse({"error": exc.message}, status_code=exc.status)
            return web.render(
                request, "message.html", s, exc.status, title="Upload refused", message=exc.message
            )
        await run_in_threadpool(
            web.log, s.user, "upload", done.submission_id, via="portal", files=done.files, bytes=done.bytes
        )
        location = f"/filer/submissions/{done.submission_id}"
        if wants_json:
            return JSONResponse(
                {"submission_id": done.submission_id, "status": "UPLOADED", "location": location}, 202
            )
        return RedirectResponse(location, status_code=303)

    @app.get("/filer/submissions/{sid}", include_in_schema=False)
    def filer_submission_page(request: Request, sid: str) -> HTMLResponse:
        s = web.require(request, "filer")
        sub = filer_submission(s.user, sid)
        report = None if sub.get("pending") else edit_report(sid)
        pending = queue.pending(home, sid)
        outcomes = queue.done(home, sid)
        web.log(s.user, "read", sid, via="portal")
        return web.render(
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
        s = web.require(request, "filer")
        from pipelines.portal.api import REPORT_TYPES

        if fmt not in REPORT_TYPES:
            raise HTTPException(404, "no such format: csv, json or html")
        sub = filer_submission(s.user, sid)
        path = home.reports / "edit" / f"{sid}.{fmt}"
        if sub.get("pending") or not path.is_file():
            raise HTTPException(404, f"no edit report for {sid} yet")
        web.log(s.user, "download", f"{sid}.{fmt}", via="portal")
        return FileResponse(path, media_type=REPORT_TYPES[fmt], filename=path.name)

    @app.post("/filer/submissions/{sid}/acknowledgements", include_in_schema=False)
    async def filer_acknowledge(request: Request, sid: str) -> Response:
        s = web.require(request, "filer")
        form = await web.form_of(request, s)
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
            return web.render(
                request, "message.html", s, 422, title="Acknowledgement refused", message=problem
            )
        req = queue.enqueue_acknowledgement(
            home, sid, rule_id, reason, s.user.username, s.user.role, s.user.enterprise_id
        )
        web.log(s.user, "acknowledge", sid, via="portal", rule_id=rule_id, request_id=req.request_id)
        return RedirectResponse(f"/filer/submissions/{sid}", status_code=303)
