"""The regulator's page: the filing calendar of a period, the risk ranking, and the cycles published. It reads
the auditor snapshot."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

import pipelines.reports.charts as charts
from pipelines.home import Home
from pipelines.portal.web.common import Web, column, rows, scalar


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


def register(app: FastAPI, web: Web) -> None:
    home = web.home

    @app.get("/regulator", include_in_schema=False)
    def regulator_home(request: Request, period: str = "") -> HTMLResponse:
        s = web.require(request, "regulator")
        with web.snapshot(s.user) as con:
            if con is None:
                return web.nothing_published(request, s)
            ps = column(con, "select distinct period from marts.fct_filing_timeliness order by 1 desc")
            closed = column(
                con, "select distinct period from marts.fct_filing_timeliness where is_closed order by 1 desc"
            )
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
            risk_period = scalar(con, "select max(period) from marts.fct_risk_scores")
            ranking = rows(
                con,
                """select r.enterprise_id, e.name, r.ent_type, max(r.score) as score, sum(r.breaches) as breaches,
                          sum(r.warnings) as warnings
                   from marts.fct_risk_scores r left join marts.dim_enterprises e
                     on e.enterprise_id = r.enterprise_id and e.is_current
                   where r.period = ? group by all order by score desc, enterprise_id""",
                [risk_period],
            )
            risk_chart = charts.risk_distribution(con, risk_period)  # the supervision report's too
            top_chart = charts.risk_top(con, risk_period)
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
        web.log(s.user, "read", "regulator", via="portal", period=period)
        return web.render(
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
            risk_chart=risk_chart,
            top_chart=top_chart,
        )
