"""Vega-Lite chart specifications for the portal (rendered in the browser by vega-embed, served locally).

Each function returns a plain Vega-Lite v6 spec (a dict) with its data inline. They are built to stay
readable at national scale (2,000 enterprises and more): distributions are binned histograms, rankings show
the top N only, and every chart has a table or a search beside it for the long tail.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"  # an identifier only: nothing is fetched
WIDTH = "container"
STATUS_COLOURS = {
    "domain": ["on_time", "late", "missing", "pending", "not_due"],
    "range": ["#2e7d32", "#ef6c00", "#c62828", "#757575", "#9e9e9e"],
}


def _clean(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """JSON-safe rows: no NaN or infinity (they would break the spec), dates as text."""
    out = []
    for r in rows:
        d = {}
        for k, v in r.items():
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            elif v is not None and not isinstance(v, (int, float, str, bool)):
                v = str(v)
            d[k] = v
        out.append(d)
    return out


def _base(title: str, rows: Iterable[Mapping[str, Any]], height: int = 220) -> dict[str, Any]:
    return {
        "$schema": SCHEMA,
        "title": title,
        "width": WIDTH,
        "height": height,
        "data": {"values": _clean(rows)},
        "config": {"view": {"stroke": None}, "axis": {"labelLimit": 180}},
    }


def histogram(title: str, rows: list[dict], field: str, threshold: float | None = None) -> dict[str, Any]:
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
    layers: list[dict[str, Any]] = [bars]
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


def top_bars(title: str, rows: list[dict], label: str, value: str, n: int = 20) -> dict[str, Any]:
    """The top n rows by value as horizontal bars (the caller sorts and cuts; n at most)."""
    rows = rows[:n]
    spec = _base(title, rows, height=max(120, 18 * len(rows)))
    spec["mark"] = {"type": "bar", "tooltip": True, "color": "#6a1b9a"}
    spec["encoding"] = {
        "y": {"field": label, "type": "nominal", "sort": "-x", "title": None},
        "x": {"field": value, "type": "quantitative", "title": value},
    }
    return spec


def time_series(title: str, rows: list[dict]) -> dict[str, Any]:
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


def stacked_status(title: str, rows: list[dict]) -> dict[str, Any]:
    """Filing calendar: enterprises per status (one bar per status). rows: status, enterprises."""
    spec = _base(title, rows, height=160)
    spec["mark"] = {"type": "bar", "tooltip": True}
    spec["encoding"] = {
        "y": {"field": "status", "type": "nominal", "title": None, "sort": STATUS_COLOURS["domain"]},
        "x": {"field": "enterprises", "type": "quantitative", "axis": {"tickMinStep": 1, "format": "d"}},
        "color": {"field": "status", "type": "nominal", "scale": STATUS_COLOURS, "legend": None},
    }
    return spec


def counts(title: str, rows: list[dict], label: str, value: str, colour: str | None = None) -> dict[str, Any]:
    """A few categories (families, severities, rules): one bar each."""
    spec = _base(title, rows, height=max(100, 20 * len(rows)))
    spec["mark"] = {"type": "bar", "tooltip": True, "color": "#00838f"}
    spec["encoding"] = {
        "y": {"field": label, "type": "nominal", "sort": "-x", "title": None},
        "x": {"field": value, "type": "quantitative"},
    }
    if colour:
        spec["encoding"]["color"] = {"field": colour, "type": "nominal"}
        del spec["mark"]["color"]
    return spec
