"""The auditor's pages: rule hit rates and submission quality, the hash-chained logs, the trace from an
indicator value to its submission and raw rows, and the archived bytes. They read the auditor snapshot."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

import pipelines.reports.charts as charts
from pipelines.intake.package import SUBMISSION_ID
from pipelines.portal import access_log
from pipelines.portal.trace import trace as trace_value
from pipelines.portal.web.common import (
    ROW_LIMIT,
    SAFE_NAME,
    Web,
    column,
    has_table,
    periods,
    rows,
    scalar,
)


def register(app: FastAPI, web: Web) -> None:
    home = web.home

    @app.get("/auditor", include_in_schema=False)
    def auditor_home(request: Request, period: str = "") -> HTMLResponse:
        s = web.require(request, "auditor")
        with web.snapshot(s.user) as con:
            if con is None:
                return web.nothing_published(request, s)
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
            main_chart = charts.rule_hit_rates(con, period)  # the quality report's too
        return web.render(
            request,
            "auditor_home.html",
            s,
            period=period,
            periods=ps,
            hit_rates=hit_rates,
            quality=quality,
            statuses=statuses,
            publication=publication[0] if publication else None,
            main_chart=main_chart,
        )

    @app.get("/auditor/audit-log", include_in_schema=False)
    def auditor_audit_log(request: Request) -> HTMLResponse:
        s = web.require(request, "auditor")
        from pipelines.intake import audit

        with web.published(s.user) as con:
            intake_check = audit.verify_home(home.root, con, snapshot=True)
            intake_entries = rows(
                con,
                'select seq, "at", action, submission_id, actor, detail::varchar as detail, hash from intake.audit_log '
                "order by seq desc limit ?",
                [ROW_LIMIT],
            )
        access_check = access_log.verify(home)
        web.log(s.user, "read", "audit-log", via="portal")
        return web.render(
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
        s = web.require(request, "auditor")
        with web.published(s.user) as con:
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
                            n = scalar(
                                con,
                                f'select count(*) from raw."{t}" where submission_id = ?',
                                [submission["submission_id"]],
                                0,
                            )
                            raw_counts.append({"filing_type": t, "rows": n})
            options = {
                "enterprises": column(
                    con, "select distinct enterprise_id from intake.submissions order by 1"
                ),
                "indicators": column(con, "select indicator_id from seeds.indicators order by 1"),
                "periods": periods(con),
            }
        web.log(
            s.user, "read", "trace", via="portal", enterprise=enterprise, indicator=indicator, period=period
        )
        return web.render(
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

    @app.get("/auditor/trace/value", include_in_schema=False)
    def auditor_trace_value(
        request: Request,
        enterprise: str = "",
        period: str = "",
        indicator: str = "",
        metric: str = "",
        day: str = "",
        dimension: str = "",
        dimension_value: str = "",
    ) -> HTMLResponse:
        """One indicator value -> the rows it was computed from (or, said so, the whole filings it reads),
        their submission versions and the archived files with their sha256 (pipelines/portal/trace.py)."""
        s = web.require(request, "auditor")
        if not (enterprise and period and indicator and metric):
            raise HTTPException(404, "name the value: enterprise, period, indicator and metric")
        with web.published(s.user) as con:
            t = trace_value(
                con,
                enterprise,
                period,
                indicator,
                metric,
                day or None,
                dimension or None,
                dimension_value or None,
            )
        if t.value is None:
            raise HTTPException(404, "no such indicator value in the published snapshot")
        web.log(
            s.user,
            "read",
            "trace-value",
            via="portal",
            enterprise=enterprise,
            indicator=indicator,
            period=period,
            metric=metric,
            day=day or None,
            dimension_value=dimension_value or None,
        )
        return web.render(request, "auditor_trace_value.html", s, t=t, row_limit=ROW_LIMIT)

    @app.get("/auditor/submissions/{sid}/rows/{filing_type}", include_in_schema=False)
    def auditor_rows(request: Request, sid: str, filing_type: str) -> HTMLResponse:
        s = web.require(request, "auditor")
        if not SAFE_NAME.match(filing_type):
            raise HTTPException(404, "no such filing type")
        with web.snapshot(s.user) as con:
            if con is None or not has_table(con, "raw", filing_type):
                raise HTTPException(404, f"no raw table {filing_type}")
            found = rows(
                con,
                f'select * from raw."{filing_type}" where submission_id = ? order by _row limit ?',
                [sid, ROW_LIMIT],
            )
            total = scalar(con, f'select count(*) from raw."{filing_type}" where submission_id = ?', [sid], 0)
        web.log(s.user, "read", f"{sid}/{filing_type}", via="portal")
        return web.render(
            request, "table.html", s, title=f"raw.{filing_type} rows of {sid}", rows=found, total=total
        )

    @app.get("/auditor/archive/{sid}/{name}", include_in_schema=False)
    def auditor_archive(request: Request, sid: str, name: str) -> Response:
        """The archived bytes of one file of a submission, checked against the sha256 the intake recorded."""
        s = web.require(request, "auditor")
        if not SAFE_NAME.match(name) or not SUBMISSION_ID.match(sid):
            raise HTTPException(404, "no such file")
        with web.published(s.user) as con:
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
        web.log(s.user, "download", f"{sid}/{name}", via="portal", sha256=digest)
        return Response(
            data,
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Content-SHA256": digest},
        )
