"""The charts of the portal and of the static period reports: one module, so the two never disagree.

Two layers:

- **Spec builders** (`histogram`, `top_bars`, `time_series`, `stacked_status`, `counts`, `lines`,
  `boxplot`): a plain Vega-Lite v6 spec (a dict) with its data inline.
- **Shared charts** (`rule_hit_rates`, `risk_distribution`, `risk_top`, `alerts_by_family`,
  `indicator_distribution`): the query *and* the spec of a chart that both a portal page and a report show.
  The portal page and the report call the same function with the same arguments, so the spec JSON (data
  included) is identical; tests/portal/test_report_charts.py compares them.

The portal renders the specs with vega-embed from /static/js/vendor/ (pipelines/portal/web/assets.py); the
reports embed the same spec in `<div class="chart" data-vl="…">` and load the same scripts copied next to
them (pipelines/reports/chart_scripts.py). Both run the same renderer (portal/web/static/charts.js).

Built to stay readable at national scale (2,000 enterprises and more): distributions are binned
histograms, rankings show the top N only, and every chart has a table or a search beside it for the long
tail. Never one bar per enterprise.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from html import escape
from typing import Any

import duckdb

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"  # an identifier only: nothing is fetched
WIDTH = "container"
TOP_N = 20
STATUS_COLOURS = {
    "domain": ["on_time", "late", "missing", "pending", "not_due"],
    "range": ["#2e7d32", "#ef6c00", "#c62828", "#757575", "#9e9e9e"],
}
SEVERITY_COLOURS = {"domain": ["BREACH", "WARN"], "range": ["#c62828", "#f9a825"]}

Spec = dict[str, Any]


# --- serialisation ----------------------------------------------------------------------------------------


def _value(v: Any) -> Any:
    if isinstance(v, bool) or v is None or isinstance(v, (int, str)):
        return v
    if isinstance(v, Decimal):
        v = float(v)
    if isinstance(v, float):
        return v if math.isfinite(v) else None  # NaN / infinity would break the spec
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    return str(v)


def _clean(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """JSON-safe rows: no NaN or infinity, decimals as numbers, dates as ISO text."""
    return [{k: _value(v) for k, v in r.items()} for r in rows]


def to_json(spec: Spec) -> str:
    """The spec as the pages carry it (one canonical text: the portal and the reports use this)."""
    return json.dumps(spec, ensure_ascii=False, allow_nan=False, sort_keys=True, default=str)


def chart_div(spec: Spec | None) -> str:
    """A static page's chart element (the reports); the portal's template macro writes the same."""
    if not spec:
        return ""
    return f'<div class="chart" data-vl="{escape(to_json(spec), quote=True)}"></div>'


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select 1 from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
        ).fetchone()
    )


# --- spec builders ----------------------------------------------------------------------------------------


def _base(title: str, rows: Iterable[Mapping[str, Any]], height: int = 220) -> Spec:
    return {
        "$schema": SCHEMA,
        "title": title,
        "width": WIDTH,
        "height": height,
        "data": {"values": _clean(rows)},
        "config": {"view": {"stroke": None}, "axis": {"labelLimit": 180}},
    }


def histogram(title: str, rows: list[dict], field: str, threshold: float | None = None) -> Spec:
    """Distribution of `field` over enterprises (binned: one bar per bin, never one per enterprise)."""
    spec = _base(title, rows)
    bars = {
        "transform": [
            {"bin": {"maxbins": 40}, "field": field, "as": ["bin_start", "bin_end"]},
            {"aggregate": [{"op": "count", "as": "enterprises"}], "groupby": ["bin_start", "bin_end"]},
        ],
        "mark": {"type": "bar", "tooltip": True, "color": "#1565c0"},
        "encoding": {
            "x": {"field": "bin_start", "type": "quantitative", "title": field, "axis": {"format": "~g"}},
            "x2": {"field": "bin_end"},
            "y": {"field": "enterprises", "type": "quantitative", "title": "enterprises"},
            "y2": {"datum": 0},
        },
    }
    layers: list[Spec] = [bars]
    if threshold is not None and math.isfinite(threshold):
        layers.append(
            {
                "data": {"values": [{"threshold": threshold}]},
                "mark": {"type": "rule", "color": "#c62828", "strokeDash": [4, 3], "size": 2},
                "encoding": {"x": {"field": "threshold", "type": "quantitative"}},
            }
        )
    spec["layer"] = layers
    return spec


def top_bars(title: str, rows: list[dict], label: str, value: str, n: int = TOP_N) -> Spec:
    """The top n rows by value as horizontal bars (the caller sorts and cuts; n at most)."""
    rows = rows[:n]
    spec = _base(title, rows, height=max(120, 18 * len(rows)))
    spec["mark"] = {"type": "bar", "tooltip": True, "color": "#6a1b9a"}
    spec["encoding"] = {
        "y": {"field": label, "type": "nominal", "sort": "-x", "title": None},
        "x": {"field": value, "type": "quantitative", "title": value},
    }
    return spec


def time_series(title: str, rows: list[dict]) -> Spec:
    """One indicator of one enterprise across periods: its value, the peer band (p10-p90 of enterprises of
    the same type) and the threshold. rows: period, value, threshold, peer_low, peer_high."""
    spec = _base(title, rows, height=160)
    x = {"field": "period", "type": "ordinal", "title": None}
    spec["layer"] = [
        {
            "mark": {"type": "area", "opacity": 0.25, "color": "#90a4ae"},
            "encoding": {
                "x": x,
                "y": {"field": "peer_low", "type": "quantitative", "title": "value"},
                "y2": {"field": "peer_high"},
            },
        },
        {
            "mark": {"type": "line", "point": True, "color": "#1565c0", "tooltip": True},
            "encoding": {"x": x, "y": {"field": "value", "type": "quantitative"}},
        },
        {
            "mark": {"type": "line", "color": "#c62828", "strokeDash": [4, 3]},
            "encoding": {"x": x, "y": {"field": "threshold", "type": "quantitative"}},
        },
    ]
    return spec


def stacked_status(title: str, rows: list[dict]) -> Spec:
    """Filing calendar: enterprises per status (one bar per status). rows: status, enterprises."""
    spec = _base(title, rows, height=160)
    spec["mark"] = {"type": "bar", "tooltip": True}
    spec["encoding"] = {
        "y": {"field": "status", "type": "nominal", "title": None, "sort": STATUS_COLOURS["domain"]},
        "x": {"field": "enterprises", "type": "quantitative", "axis": {"tickMinStep": 1, "format": "d"}},
        "color": {"field": "status", "type": "nominal", "scale": STATUS_COLOURS, "legend": None},
    }
    return spec


def counts(
    title: str,
    rows: list[dict],
    label: str,
    value: str,
    colour: str | None = None,
    scale: Mapping[str, Any] | None = None,
) -> Spec:
    """A few categories (families, severities, rules, sectors): one bar each, stacked by `colour`."""
    labels = {r.get(label) for r in rows}
    spec = _base(title, rows, height=max(100, 20 * len(labels)))
    spec["mark"] = {"type": "bar", "tooltip": True, "color": "#00838f"}
    spec["encoding"] = {
        "y": {"field": label, "type": "nominal", "sort": "-x", "title": None},
        "x": {"field": value, "type": "quantitative"},
    }
    if colour:
        spec["encoding"]["color"] = {"field": colour, "type": "nominal"}
        if scale:
            spec["encoding"]["color"]["scale"] = dict(scale)
        del spec["mark"]["color"]
    return spec


def lines(title: str, rows: list[dict], x: str, y: str, series: str) -> Spec:
    """A few series over periods (one line each, a legend): e.g. roll rates by transition."""
    spec = _base(title, rows, height=200)
    spec["mark"] = {"type": "line", "point": True, "tooltip": True}
    spec["encoding"] = {
        "x": {"field": x, "type": "ordinal", "title": None},
        "y": {"field": y, "type": "quantitative"},
        "color": {"field": series, "type": "nominal"},
    }
    return spec


def boxplot(title: str, rows: list[dict], category: str, value: str) -> Spec:
    """The spread of `value` over enterprises for each of a few categories (min, quartiles, max)."""
    cats = {r.get(category) for r in rows}
    spec = _base(title, rows, height=max(100, 28 * len(cats)))
    spec["mark"] = {"type": "boxplot", "extent": "min-max"}
    spec["encoding"] = {
        "y": {"field": category, "type": "nominal", "title": None},
        "x": {"field": value, "type": "quantitative", "title": value},
    }
    return spec


# --- shared charts: one query and one spec, for a portal page and a report ---------------------------------


def rule_hit_rates(con: duckdb.DuckDBPyConnection, period: str) -> Spec | None:
    """Rules with findings in the period, by hit rate (the share of evaluated submissions with findings);
    the auditor's home and the quality report."""
    if not _has(con, "marts", "fct_rule_hit_rates"):
        return None
    hits = _rows(
        con,
        """select rule_id, sum(submissions_with_findings) / nullif(sum(submissions_evaluated), 0) as hit_rate,
                  sum(findings_total) as findings
           from marts.fct_rule_hit_rates where period = ? group by rule_id
           having sum(submissions_with_findings) > 0
           order by hit_rate desc nulls last, findings desc, rule_id limit ?""",
        [period, TOP_N],
    )
    if not hits:
        return None
    return top_bars(
        f"Rules with findings in {period}: hit rate (share of submissions)", hits, "rule_id", "hit_rate"
    )


def _risk_scores(con: duckdb.DuckDBPyConnection, period: str) -> list[dict[str, Any]]:
    if not _has(con, "marts", "fct_risk_scores"):
        return []
    return _rows(
        con,
        """select enterprise_id, max(score) as score from marts.fct_risk_scores where period = ?
           group by enterprise_id having max(score) is not null order by score desc, enterprise_id""",
        [period],
    )


def risk_distribution(con: duckdb.DuckDBPyConnection, period: str) -> Spec | None:
    """The composite risk scores of a period over all enterprises (the regulator and the supervision report)."""
    scores = _risk_scores(con, period)
    if not scores:
        return None
    return histogram(f"Risk scores {period} over {len(scores)} enterprises", scores, "score")


def risk_top(con: duckdb.DuckDBPyConnection, period: str) -> Spec | None:
    """The TOP_N highest composite risk scores of a period (the regulator and the supervision report)."""
    scores = _risk_scores(con, period)
    if not scores:
        return None
    return top_bars(
        f"Top {min(TOP_N, len(scores))} by risk score, {period}", scores, "enterprise_id", "score"
    )


def alert_filters(
    period: str = "", family: str = "", severity: str = "", indicator: str = "", enterprise: str = ""
) -> tuple[str, list[str]]:
    """The where clause of marts.fct_alerts for the analyst's filters (the report: period only)."""
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
    return " and ".join(filters), params


def alerts_by_family(con: duckdb.DuckDBPyConnection, where: str, params: list[str]) -> Spec | None:
    """Alerts by family, stacked by severity (the analyst's alert list and the supervision report's
    overview); `where`/`params` from `alert_filters`."""
    by_family = _rows(
        con,
        f"select family, severity, count(*) as alerts from marts.fct_alerts where {where} "
        "group by all order by 1, 2",
        params,
    )
    if not by_family:
        return None
    return counts(
        "Alerts by family and severity", by_family, "family", "alerts", "severity", SEVERITY_COLOURS
    )


# arg_max skips the rows whose key is null: a monthly metric's rows have as_of_date null
LATEST = "coalesce(v.as_of_date, date '0001-01-01')"


def indicator_values(
    con: duckdb.DuckDBPyConnection, indicator_id: str, period: str, metric: str, peers: str = ""
) -> list[dict[str, Any]]:
    """One value per enterprise (the latest day's for a daily metric) of an indicator's metric in a period,
    highest first; `peers` keeps the enterprises of one type."""
    if not _has(con, "marts", "fct_indicator_values"):
        return []
    dim = (
        "marts.dim_enterprises"
        if _has(con, "marts", "dim_enterprises")
        else "(select null::varchar as enterprise_id, null::varchar as name, null::varchar as ent_type, "
        "true as is_current)"
    )
    values = _rows(
        con,
        f"""select v.enterprise_id, e.name, e.ent_type, arg_max(v.value, {LATEST}) as value,
                  arg_max(v.threshold, {LATEST}) as threshold, arg_max(v.status, {LATEST}) as status
           from marts.fct_indicator_values v left join {dim} e
             on e.enterprise_id = v.enterprise_id and e.is_current
           where v.indicator_id = ? and v.period = ? and v.metric = ? and v.dimension is null
             and v.value is not null and isfinite(v.value)
           group by all order by value desc, enterprise_id""",
        [indicator_id, period, metric],
    )
    return [v for v in values if v["ent_type"] == peers] if peers else values


def usual_threshold(values: list[dict[str, Any]]) -> float | None:
    thresholds = [v["threshold"] for v in values if v["threshold"] is not None]
    return max(set(thresholds), key=thresholds.count) if thresholds else None


def indicator_distribution(indicator_id: str, metric: str, values: list[dict[str, Any]]) -> Spec | None:
    """The distribution of one indicator's metric over enterprises with its usual threshold (the analyst's
    indicator page and the supervision report); `values` from `indicator_values`."""
    if not values:
        return None
    return histogram(
        f"{indicator_id} {metric}: distribution over {len(values)} enterprises",
        values,
        "value",
        usual_threshold(values),
    )
