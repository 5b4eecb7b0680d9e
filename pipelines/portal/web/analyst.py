"""The analyst's pages: alerts, enterprises (with peer bands), indicators, and the read-only SQL page. They
read the analyst (pseudonymised) snapshot."""

from __future__ import annotations

import hashlib
from typing import Any

import duckdb
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

import pipelines.portal.web.sqlpage as sqlpage
import pipelines.reports.charts as charts
from pipelines.portal.web.common import ROW_LIMIT, TOP_N, Web, column, one_row, periods, rows, scalar


def evidence_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return column(
        con,
        """select table_name from duckdb_columns() where schema_name = 'marts' and table_name like '%_evidence'
           group by 1 having count(*) filter (where column_name in ('enterprise_id', 'period', 'indicator_id')) = 3
           order by 1""",
    )


def register(app: FastAPI, web: Web) -> None:
    home = web.home

    @app.get("/analyst", include_in_schema=False)
    def analyst_home(
        request: Request,
        period: str = "",
        family: str = "",
        severity: str = "",
        enterprise: str = "",
        indicator: str = "",
    ) -> HTMLResponse:
        s = web.require(request, "analyst")
        with web.snapshot(s.user) as con:
            if con is None:
                return web.nothing_published(request, s)
            where, params = charts.alert_filters(period, family, severity, indicator, enterprise)
            alerts = rows(
                con,
                "select alert_id, enterprise_id, period, indicator_id, indicator_name, family, severity, metric, "
                f"dimension_value, value, threshold, message from marts.fct_alerts where {where} "
                "order by period desc, severity, enterprise_id, indicator_id limit ?",
                [*params, ROW_LIMIT + 1],
            )
            total = scalar(con, f"select count(*) from marts.fct_alerts where {where}", params, 0)
            main_chart = charts.alerts_by_family(con, where, params)  # the supervision report's too
            options = {
                "periods": periods(con),
                "families": column(con, "select distinct family from seeds.indicators order by 1"),
                "indicators": column(con, "select indicator_id from seeds.indicators order by 1"),
            }
        return web.render(
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
            main_chart=main_chart,
        )

    @app.get("/analyst/enterprises", include_in_schema=False)
    def analyst_enterprises(request: Request, q: str = "") -> HTMLResponse:
        s = web.require(request, "analyst")
        with web.snapshot(s.user) as con:
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
        return web.render(request, "analyst_enterprises.html", s, q=q, enterprises=found)

    @app.get("/analyst/enterprises/{eid}", include_in_schema=False)
    def analyst_enterprise(request: Request, eid: str) -> HTMLResponse:
        s = web.require(request, "analyst")
        with web.published(s.user) as con:
            ent = one_row(
                con,
                "select * from marts.dim_enterprises where enterprise_id = ? and is_current",
                [eid],
                f"no enterprise {eid}",
            )
            series = rows(
                con,
                """with v as (
                       select enterprise_id, period, indicator_id, metric,
                              arg_max(value, coalesce(as_of_date, date '0001-01-01')) as value,
                              arg_max(threshold, coalesce(as_of_date, date '0001-01-01')) as threshold
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
            # the AML party ranking (issue 16): the parties to open first, by period; evidence rows in
            # marts.fct_aml_evidence and marts.fct_aml_party_signals by enterprise, period and party
            has_ranking = scalar(
                con,
                "select count(*) from duckdb_tables() where schema_name = 'marts' and table_name = 'fct_aml_party_risk'",
            )
            parties = (
                rows(
                    con,
                    "select period, party_id, risk_rank, score, alerts, typology_ids, unreported_large_value, "
                    "amount_outliers, legs from marts.fct_aml_party_risk "
                    "where enterprise_id = ? and risk_rank <= ? order by period desc, risk_rank",
                    [eid, TOP_N],
                )
                if has_ranking
                else []
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
        return web.render(
            request,
            "analyst_enterprise.html",
            s,
            ent=ent,
            alerts=alerts,
            filings=filings,
            timeliness=timeliness,
            parties=parties,
            indicator_charts=indicator_charts,
            risk_chart=charts.time_series(
                "Risk score", [{"period": r["period"], "value": r["score"]} for r in risk]
            )
            if risk
            else None,
        )

    @app.get("/analyst/alerts/{alert_id}", include_in_schema=False)
    def analyst_alert(request: Request, alert_id: str) -> HTMLResponse:
        s = web.require(request, "analyst")
        with web.published(s.user) as con:
            alert = one_row(
                con,
                "select * exclude (computed_at) from marts.fct_alerts where alert_id = ?",
                [alert_id],
                f"no alert {alert_id}",
            )
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
        return web.render(request, "analyst_alert.html", s, alert=alert, values=values, evidence=evidence)

    @app.get("/analyst/indicators/{indicator_id}", include_in_schema=False)
    def analyst_indicator(
        request: Request, indicator_id: str, period: str = "", metric: str = "", q: str = "", peers: str = ""
    ) -> HTMLResponse:
        s = web.require(request, "analyst")
        with web.published(s.user) as con:
            ind = one_row(
                con,
                "select * from seeds.indicators where indicator_id = ?",
                [indicator_id],
                f"no indicator {indicator_id}",
            )
            ps = column(
                con,
                "select distinct period from marts.fct_indicator_values where indicator_id = ? order by 1 desc",
                [indicator_id],
            )
            period = period if period in ps else (ps[0] if ps else "")
            metrics = column(
                con,
                "select distinct metric from marts.fct_indicator_values where indicator_id = ? and period = ? "
                "and dimension is null order by 1",
                [indicator_id, period],
            )
            metric = metric if metric in metrics else (metrics[0] if metrics else "")
            all_values = charts.indicator_values(con, indicator_id, period, metric)
        peer_types = sorted({v["ent_type"] for v in all_values if v["ent_type"]})
        if peers not in peer_types:  # the peer group: enterprises of one type
            peers = ""
        values = [v for v in all_values if v["ent_type"] == peers] if peers else all_values
        shown = (
            [v for v in values if q.lower() in (v["enterprise_id"] + " " + (v["name"] or "")).lower()]
            if q
            else values
        )
        return web.render(
            request,
            "analyst_indicator.html",
            s,
            ind=ind,
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
            dist=charts.indicator_distribution(indicator_id, metric, values),  # the supervision report's too
            top_chart=charts.top_bars(f"Top {TOP_N} enterprises", shown, "enterprise_id", "value", TOP_N)
            if shown
            else None,
        )

    @app.get("/analyst/sql", include_in_schema=False)
    def analyst_sql_form(request: Request) -> HTMLResponse:
        s = web.require(request, "analyst")
        return web.render(
            request,
            "analyst_sql.html",
            s,
            sql="select * from marts.fct_alerts limit 20",
            result=None,
            error=None,
        )

    @app.post("/analyst/sql", include_in_schema=False)
    async def analyst_sql(request: Request) -> Response:
        s = web.require(request, "analyst")
        form = await web.form_of(request, s)
        sql = str(form.get("sql") or "")
        fmt = str(form.get("format") or "")
        digest = hashlib.sha256(sql.encode()).hexdigest()[:16]
        try:
            if fmt in ("csv", "parquet"):
                data, media = await run_in_threadpool(sqlpage.export, home, sql, fmt)
                await run_in_threadpool(
                    web.log,
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
                web.log,
                s.user,
                "query_refused",
                None,
                via="portal",
                sql=sql[:4000],
                sha=digest,
                reason=str(exc)[:500],
            )
            return web.render(request, "analyst_sql.html", s, 400, sql=sql, result=None, error=str(exc))
        await run_in_threadpool(
            web.log, s.user, "query", None, via="portal", sql=sql[:4000], sha=digest, rows=len(result.rows)
        )
        return web.render(request, "analyst_sql.html", s, sql=sql, result=result, error=None)
