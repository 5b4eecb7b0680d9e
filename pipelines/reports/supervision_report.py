"""The supervision report of one period: one static HTML file (inline CSS) with the portal's charts.

    path = write_supervision_report(con, home.reports, "2026-10")   # <reports>/supervision/2026-10.html

Read from the published snapshot. Sections are data-driven: alerts by family and severity from
`marts.fct_alerts`, every family present in `marts.fct_indicator_values` gets its status counts, so a new
indicator mart appears without code changes. The charts (reserve coverage, flow direction, complaint rates
against peers, overdue buckets and roll rates, AML alerts) each show "no data" when their indicator has
no rows. Every alert links to a drill-down with the indicator rows and evidence rows behind it.

The charts are the portal's: Vega-Lite specs from pipelines/reports/charts.py (the charts both show come
from the same function with the same query, so they never disagree), embedded as
`<div class="chart" data-vl="…">` and drawn by the vega scripts copied into `<reports>/assets/`
(pipelines/reports/chart_scripts.py; no CDN, nothing fetched). Readable at 2,000 enterprises: distributions
and top-N, never one bar per enterprise.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from pathlib import Path

import duckdb
import polars as pl

import pipelines.reports.charts as charts
from pipelines.reports.chart_scripts import installed_scripts, script_tags, write_report_scripts

EVIDENCE_ROWS = 40  # per alert and evidence table
RANKING_ROWS = 20
CSS = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1em 2em;color:#222}
h1{font-size:1.5em}h2{border-bottom:2px solid #1f5fa8;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em}
th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
th{background:#eef3fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.BREACH{color:#fff;background:#b23b3b}.WARN{background:#f4c542}
.muted{color:#777}.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:1em}
.chart{width:100%;min-height:120px;margin:.5em 0}
details{margin:.3em 0;border-left:3px solid #ccc;padding-left:.6em}summary{cursor:pointer}
nav a{margin-right:1em}
"""


def _q(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence | None = None) -> pl.DataFrame:
    return con.sql(sql, params=list(params)).pl() if params else con.sql(sql).pl()


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, set[str]]:
    rows = con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = ?", [schema]
    ).fetchall()
    out: dict[str, set[str]] = {}
    for table, column in rows:
        out.setdefault(table, set()).add(column)
    return out


def _cell(value: object) -> str:
    if value is None:
        return "<td class='muted'>–</td>"
    if isinstance(value, float | Decimal):
        return f"<td class='num'>{float(value):,.4g}</td>"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"<td class='num'>{value:,}</td>"
    text = escape(str(value))
    return f"<td class='{text}'>{text}</td>" if text in ("BREACH", "WARN") else f"<td>{text}</td>"


def html_table(df: pl.DataFrame, *, max_rows: int | None = None, links: dict[int, str] | None = None) -> str:
    """A plain HTML table; `links` maps a row index to an anchor its first cell links to."""
    if df.is_empty():
        return "<p class='muted'>No rows.</p>"
    shown = df.head(max_rows) if max_rows else df
    head = "".join(f"<th>{escape(c)}</th>" for c in df.columns)
    body = []
    for i, row in enumerate(shown.iter_rows()):
        cells = [_cell(v) for v in row]
        if links and i in links:
            cells[0] = f"<td><a href='#{links[i]}'>{escape(str(row[0]))}</a></td>"
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = (
        f"<p class='muted'>{df.height - shown.height} more rows not shown.</p>"
        if df.height > shown.height
        else ""
    )
    return f"<table><tr>{head}</tr>{''.join(body)}</table>{more}"


def _no_data(title: str) -> str:
    return f"<p class='muted'>{escape(title)}: no data for this period.</p>"


class SupervisionReport:
    """Collects the sections of one period's report from an open read-only connection."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        period: str,
        *,
        as_of: datetime | None = None,
        scripts: list[str] | None = None,
    ) -> None:
        self.con, self.period = con, period
        self.scripts = installed_scripts() if scripts is None else scripts
        self.as_of = as_of  # the cycle's clock (never the wall clock: two runs give the same bytes)
        self.marts = _tables(con, "marts")
        self.has_values = "fct_indicator_values" in self.marts
        self.has_alerts = "fct_alerts" in self.marts

    # ---- data helpers -------------------------------------------------------------------------------
    def values(self, indicator_id: str, where: str = "", params: Sequence = ()) -> pl.DataFrame:
        if not self.has_values:
            return pl.DataFrame()
        return _q(
            self.con,
            "select * from marts.fct_indicator_values where indicator_id = ? "
            + (f"and {where} " if where else "")
            # a stable row order: charts sum and average the rows in it (same bytes on every run)
            + "order by enterprise_id, period, metric, dimension, dimension_value, as_of_date",
            [indicator_id, *params],
        )

    def periods_up_to(self, n: int = 12) -> list[str]:
        if not self.has_values:
            return [self.period]
        rows = self.con.execute(
            "select distinct period from marts.fct_indicator_values where period <= ? order by 1 desc limit ?",
            [self.period, n],
        ).fetchall()
        return sorted(r[0] for r in rows) or [self.period]

    def alerts(self) -> pl.DataFrame:
        if not self.has_alerts:
            return pl.DataFrame()
        return _q(
            self.con,
            "select * from marts.fct_alerts where period = ? "
            "order by case severity when 'BREACH' then 0 else 1 end, family, indicator_id, enterprise_id",
            [self.period],
        )

    # ---- sections -----------------------------------------------------------------------------------
    def overview(self, alerts: pl.DataFrame) -> str:
        subs = _q(
            self.con,
            "select status, count(*) as submissions, count(distinct enterprise_id) as enterprises "
            "from intake.submissions where period = ? group by 1 order by 2 desc, 1",
            [self.period],
        )
        parts = [
            "<h2 id='overview'>Overview</h2>",
            "<h3>Submissions of the period by status</h3>",
            html_table(subs),
        ]
        if alerts.is_empty():
            parts.append("<p>No alerts for this period.</p>")
            return "".join(parts)
        by = alerts.group_by("family", "severity").len().sort("family")
        table = by.pivot(on="severity", index="family", values="len").fill_null(0).sort("family")
        parts += [
            "<h3>Alerts by family and severity</h3>",
            # the analyst's alert list filtered to this period shows the same chart
            charts.chart_div(charts.alerts_by_family(self.con, *charts.alert_filters(period=self.period))),
            html_table(table),
        ]
        return "".join(parts)

    def risk_ranking(self, alerts: pl.DataFrame) -> str:
        parts = ["<h2 id='risk'>Enterprise risk ranking</h2>"]
        if {"enterprise_id", "period", "family", "score"} <= self.marts.get("fct_risk_scores", set()):
            # one row per family plus family 'ALL' (the composite): rank by ALL, show the family scores beside it
            scores = _q(
                self.con,
                "select enterprise_id, family, score, family_score, breaches, warnings "
                "from marts.fct_risk_scores where period = ?",
                [self.period],
            )
            total = scores.filter(pl.col("family") == "ALL").sort(
                ["score", "enterprise_id"], descending=[True, False]
            )
            by_family = (
                scores.filter(pl.col("family") != "ALL").pivot(
                    on="family", index="enterprise_id", values="family_score", sort_columns=True
                )
                if scores.filter(pl.col("family") != "ALL").height
                else pl.DataFrame({"enterprise_id": []}, schema={"enterprise_id": pl.String})
            )
            ranking = total.select("enterprise_id", "score", "breaches", "warnings").join(
                by_family, on="enterprise_id", how="left"
            )
            parts.append(
                "<p>Composite risk score 0–100 (<code>marts.fct_risk_scores</code>, family ALL), "
                "with each family's score (min(1, BREACH + 0.3 × WARN) × 100) beside it.</p>"
            )
            # the regulator's page shows the same two charts for the same period
            parts += [
                "<div class='charts'>",
                charts.chart_div(charts.risk_distribution(self.con, self.period)),
                charts.chart_div(charts.risk_top(self.con, self.period)),
                "</div>",
            ]
            parts.append(html_table(ranking, max_rows=RANKING_ROWS))
            return "".join(parts)
        parts.append(
            "<p class='muted'>No risk score mart in this snapshot: ranked by alerts "
            "(BREACH count, then WARN count).</p>"
        )
        if alerts.is_empty():
            return "".join(parts) + _no_data("Alerts")
        rank = (
            alerts.group_by("enterprise_id")
            .agg(
                breaches=(pl.col("severity") == "BREACH").sum(),
                warnings=(pl.col("severity") == "WARN").sum(),
                families=pl.col("family").n_unique(),
            )
            .sort(["breaches", "warnings", "enterprise_id"], descending=[True, True, False])
        )
        parts.append(html_table(rank, max_rows=RANKING_ROWS))
        return "".join(parts)

    def distribution(self, indicator_id: str, metric: str, what: str) -> str:
        """The analyst's indicator page (/analyst/indicators/<id>?period=&metric=): the same chart."""
        values = charts.indicator_values(self.con, indicator_id, self.period, metric)
        if not values:
            return _no_data(f"{what} ({indicator_id})")
        below = sum(1 for v in values if v["status"] == "BREACH")
        return (
            charts.chart_div(charts.indicator_distribution(indicator_id, metric, values))
            + f"<p class='muted'>{len(values)} enterprises, {below} in BREACH; the dashed line is the usual "
            "threshold. The portal's indicator page lists the top and bottom enterprises and searches them.</p>"
        )

    def chart_reserves(self) -> str:
        return self.distribution(
            "RES-001", "coverage_ratio_worst_day", "Reserve coverage, worst day of the month"
        )

    def chart_flows(self) -> str:
        df = self.values(
            "FLOW-001", "metric = 'outflow' and period = ? and dimension is not null", [self.period]
        )
        if df.is_empty():
            return _no_data("Capital flow direction (FLOW-001)")
        out = []
        for dim, title in (
            ("cp_sector", "Outflow by counterparty sector"),
            ("cp_region", "Outflow by counterparty region (top 12)"),
            ("cp_country", "Outflow by counterparty country (top 12)"),
            ("is_cross_border", "Outflow: cross-border or domestic"),
        ):
            agg = (
                df.filter(pl.col("dimension") == dim)
                .group_by("dimension_value")
                .agg(outflow_cny=pl.col("value").sum())
                .sort(["outflow_cny", "dimension_value"], descending=[True, False])
                .head(12)
            )
            if not agg.is_empty():
                spec = charts.counts(
                    f"{title}, CNY, {self.period}", agg.to_dicts(), "dimension_value", "outflow_cny"
                )
                out.append(charts.chart_div(spec))
        return "".join(out)

    def chart_complaints(self) -> str:
        out = [self.distribution("CPL-001", "complaints_per_10k_customers", "Complaint rates")]
        values = charts.indicator_values(self.con, "CPL-001", self.period, "complaints_per_10k_customers")
        if values:
            peers = (
                pl.DataFrame(values, infer_schema_length=None)
                .group_by("ent_type")
                .agg(
                    enterprises=pl.len(),
                    p10=pl.col("value").quantile(0.1),
                    median=pl.col("value").median(),
                    p90=pl.col("value").quantile(0.9),
                )
                .sort("ent_type", nulls_last=True)
            )
            out += ["<p>Complaints per 10k customers by peer group (enterprise type):</p>", html_table(peers)]
        return "".join(out)

    def chart_credit(self) -> str:
        out = []
        df = self.values(
            "CRD-001",
            "metric = 'overdue_principal_share' and dimension = 'overdue_bucket' and period = ?",
            [self.period],
        )
        if df.is_empty():
            out.append(_no_data("Overdue buckets (CRD-001)"))
        else:
            rows = df.select("enterprise_id", "dimension_value", "value").drop_nulls("value")
            spec = charts.boxplot(
                f"Overdue principal share by bucket over {df['enterprise_id'].n_unique()} lenders, "
                f"{self.period} (CRD-001)",
                rows.rename(
                    {"dimension_value": "overdue_bucket", "value": "overdue_principal_share"}
                ).to_dicts(),
                "overdue_bucket",
                "overdue_principal_share",
            )
            out.append(charts.chart_div(spec))
        periods = self.periods_up_to()
        rolls = self.values(
            "CRD-002", "metric = 'roll_rate' and period between ? and ?", [periods[0], self.period]
        )
        if rolls.is_empty():
            out.append(_no_data("Roll rates (CRD-002)"))
        else:
            avg = (
                rolls.group_by("period", "dimension_value")
                .agg(average_roll_rate=pl.col("value").mean())
                .rename({"dimension_value": "transition"})
                .sort("period", "transition")
            )
            out.append(
                charts.chart_div(
                    charts.lines(
                        "Average roll rate by transition (CRD-002)",
                        avg.to_dicts(),
                        "period",
                        "average_roll_rate",
                        "transition",
                    )
                )
            )
        return "".join(out)

    def chart_aml(self, alerts: pl.DataFrame) -> str:
        """This period's AML alerts by typology, and the alert counts of the last periods beside it."""
        out = []
        aml = alerts.filter(pl.col("family") == "AML") if not alerts.is_empty() else alerts
        if aml.is_empty():
            out.append(_no_data("AML alerts"))
        else:
            by = (
                aml.group_by("indicator_id", "indicator_name", "severity")
                .len()
                .select(
                    typology=pl.concat_str(
                        [pl.col("indicator_id"), pl.col("indicator_name").fill_null("")], separator=" "
                    ),
                    severity="severity",
                    alerts="len",
                )
                .sort("typology", "severity")
            )
            spec = charts.counts(
                f"AML alerts by typology, {self.period}",
                by.to_dicts(),
                "typology",
                "alerts",
                "severity",
                charts.SEVERITY_COLOURS,
            )
            out.append(charts.chart_div(spec))
        if self.has_alerts:
            periods = self.periods_up_to(6)
            history = _q(
                self.con,
                "select period, indicator_id, count(*) as alerts from marts.fct_alerts where family = 'AML' "
                "and period between ? and ? group by 1, 2 order by 1, 2",
                [periods[0], self.period],
            )
            if not history.is_empty():
                spec = charts.lines(
                    "AML alerts by typology and period",
                    history.to_dicts(),
                    "period",
                    "alerts",
                    "indicator_id",
                )
                out.append(charts.chart_div(spec))
        return "".join(out)

    def party_ranking(self) -> str:
        """The parties an investigator would open first (marts.fct_aml_party_risk): the period's highest
        scores across filers, each with its rank within its filer and the evidence behind the score."""
        if "fct_aml_party_risk" not in self.marts:
            return ""
        top = _q(
            self.con,
            "select enterprise_id, party_id, risk_rank as rank_in_filer, score, alerts, typology_ids, "
            "unreported_large_value, amount_outliers, legs from marts.fct_aml_party_risk "
            "where period = ? and risk_rank is not null "
            "order by score desc, enterprise_id, risk_rank limit ?",
            [self.period, RANKING_ROWS],
        )
        if top.is_empty():
            return _no_data("Parties to open first")
        return (
            "<h3 id='aml-parties'>Parties to open first</h3><p>The highest party scores of the period across "
            "filers (<code>marts.fct_aml_party_risk</code>): ten points per AML alert naming the party, plus "
            "its unreported large values and amounts far from its own usual (at most nine). The evidence rows "
            "are in <code>marts.fct_aml_evidence</code> and <code>marts.fct_aml_party_signals</code> by "
            "enterprise, period and party.</p>" + html_table(top)
        )

    def families(self) -> str:
        """Status counts per indicator of every family with values in the period (data-driven)."""
        if not self.has_values:
            return ""
        df = (
            _q(
                self.con,
                "select coalesce(i.family, '?') as family, v.indicator_id, any_value(i.name) as name, "
                "count(*) filter (where v.status = 'BREACH') as breach, count(*) filter (where v.status = 'WARN') as warn, "
                "count(*) filter (where v.status = 'OK') as ok, "
                "count(*) filter (where v.status not in ('BREACH', 'WARN', 'OK')) as other, "
                "count(distinct v.enterprise_id) as enterprises "
                "from marts.fct_indicator_values v left join seeds.indicators i using (indicator_id) "
                "where v.period = ? and v.as_of_date is null group by 1, 2 order by 1, 2",
                [self.period],
            )
            if "indicators" in _tables(self.con, "seeds")
            else pl.DataFrame()
        )
        if df.is_empty():
            return ""
        parts = [
            "<h2 id='families'>Indicators by family</h2>",
            "<p class='muted'>Monthly rows of <code>marts.fct_indicator_values</code>; "
            "other = NOT_APPLICABLE, INFO and INSUFFICIENT_*.</p>",
        ]
        for (family,), g in sorted(df.group_by("family"), key=lambda kv: kv[0][0]):
            parts += [f"<h3 id='family-{escape(family)}'>{escape(family)}</h3>", html_table(g.drop("family"))]
        return "".join(parts)

    def drilldown(self, alerts: pl.DataFrame) -> str:
        parts = ["<h2 id='alerts'>Alerts and their evidence</h2>"]
        if alerts.is_empty():
            return "".join(parts) + "<p>No alerts for this period.</p>"
        listing = alerts.select(
            "enterprise_id",
            "indicator_id",
            "family",
            "severity",
            "metric",
            "dimension_value",
            "value",
            "threshold",
            "message",
        )
        parts.append(html_table(listing, links={i: f"alert-{a}" for i, a in enumerate(alerts["alert_id"])}))
        evidence_tables = [
            t
            for t, cols in sorted(self.marts.items())
            if t.endswith("_evidence") and {"enterprise_id", "period", "indicator_id"} <= cols
        ]
        # one query per table for the whole period (not per alert), at most EVIDENCE_ROWS + 1 rows per key
        order = "as_of_date nulls first, metric, dimension_value"
        per_key = "qualify row_number() over (partition by enterprise_id, indicator_id {}) <= " + str(
            EVIDENCE_ROWS + 1
        )
        values = (
            _q(
                self.con,
                "select * exclude (computed_at) from marts.fct_indicator_values where period = ? "
                "and status in ('BREACH', 'WARN') "
                f"{per_key.format('order by ' + order)} order by enterprise_id, indicator_id, {order}",
                [self.period],
            )
            if self.has_values
            else pl.DataFrame()
        )
        evidence = {
            t: _q(
                self.con,
                f'select * {"exclude (computed_at)" if "computed_at" in self.marts[t] else ""} from marts."{t}" '
                f"where period = ? {per_key.format('')}",
                [self.period],
            )
            for t in evidence_tables
        }

        def rows_of(df: pl.DataFrame, enterprise_id: str, indicator_id: str) -> pl.DataFrame:
            if df.is_empty():
                return df
            return df.filter(
                (pl.col("enterprise_id") == enterprise_id) & (pl.col("indicator_id") == indicator_id)
            )

        for a in alerts.iter_rows(named=True):
            body = [
                f"<p><b>{escape(a['message'] or '')}</b></p>",
                f"<p>Evidence: {escape(a['evidence'] or '–')}</p>",
                "<p class='muted'>Indicator rows with status BREACH or WARN "
                f"(marts.fct_indicator_values, {a['indicator_id']}, {a['enterprise_id']}, {a['period']}):</p>",
                html_table(rows_of(values, a["enterprise_id"], a["indicator_id"]), max_rows=EVIDENCE_ROWS),
            ]
            for t, df in evidence.items():
                ev = rows_of(df, a["enterprise_id"], a["indicator_id"])
                if not ev.is_empty():
                    body += [
                        f"<p class='muted'>Evidence rows (marts.{escape(t)}):</p>",
                        html_table(ev, max_rows=EVIDENCE_ROWS),
                    ]
            summary = f"<span class='{a['severity']}'>{a['severity']}</span> {escape(a['enterprise_id'])} · {escape(a['indicator_id'])} {escape(a['indicator_name'] or '')}"
            parts.append(
                f"<details id='alert-{a['alert_id']}'><summary>{summary}</summary>{''.join(body)}</details>"
            )
        return "".join(parts)

    def render(self) -> str:
        alerts = self.alerts()
        as_of = (
            self.con.sql("select max(computed_at) from marts.fct_indicator_values").fetchall()[0][0]
            if self.has_values
            else None
        )
        sections = [
            self.overview(alerts),
            self.risk_ranking(alerts),
            "<h2 id='reserves'>Reserve coverage</h2>",
            self.chart_reserves(),
            "<h2 id='flows'>Capital flow direction</h2><div class='charts'>",
            self.chart_flows(),
            "</div>",
            "<h2 id='complaints'>Complaint rates against peers</h2>",
            self.chart_complaints(),
            "<h2 id='credit'>Overdue buckets and roll rates</h2>",
            self.chart_credit(),
            "<h2 id='aml'>AML alerts</h2>",
            self.chart_aml(alerts),
            self.party_ranking(),
            self.families(),
            self.drilldown(alerts),
        ]
        nav = " ".join(
            f"<a href='#{a}'>{t}</a>"
            for a, t in (
                ("overview", "Overview"),
                ("risk", "Risk ranking"),
                ("reserves", "Reserves"),
                ("flows", "Flows"),
                ("complaints", "Complaints"),
                ("credit", "Credit"),
                ("aml", "AML"),
                ("families", "Families"),
                ("alerts", "Alerts"),
            )
        )
        links = (
            f"<p>Related: <a href='../quality/{self.period}.html'>quality report of {self.period}</a> · "
            "<a href='../dbt_docs/static_index.html'>dbt docs (models and lineage)</a> · "
            "<a href='../edit/'>edit reports</a></p>"
        )
        return (
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>Supervision report {escape(self.period)}</title><style>{CSS}</style></head><body>"
            f"<h1>Supervision report — period {escape(self.period)}</h1>"
            f"<p class='muted'>Warehouse as of {escape(str(as_of) if as_of else 'n/a')}; generated "
            + (f"for the cycle of {self.as_of.astimezone(UTC):%Y-%m-%d %H:%M} UTC " if self.as_of else "")
            + f"from the published snapshot. {alerts.height} alerts.</p>"
            f"<nav>{nav}</nav>{links}{''.join(sections)}{script_tags(self.scripts)}</body></html>"
        )


def render_supervision_report(
    con: duckdb.DuckDBPyConnection,
    period: str,
    *,
    as_of: datetime | None = None,
    scripts: list[str] | None = None,
) -> str:
    """The page; `scripts`: the chart scripts it loads from ../assets/ (default: those installed)."""
    return SupervisionReport(con, period, as_of=as_of, scripts=scripts).render()


def write_supervision_report(
    con: duckdb.DuckDBPyConnection, reports_dir: Path, period: str, *, as_of: datetime | None = None
) -> Path:
    """Write <reports_dir>/supervision/<period>.html (atomically) and return its path; `as_of` is the
    cycle's clock the page names (none: no time on the page)."""
    target = reports_dir / "supervision" / f"{period}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    scripts = write_report_scripts(reports_dir)
    tmp.write_text(render_supervision_report(con, period, as_of=as_of, scripts=scripts), encoding="utf-8")
    tmp.replace(target)
    return target
