"""Inline SVG charts: geometry worked out by hand, text escaped, nothing external referenced."""

from __future__ import annotations

import re

from pipelines.reports.svg_charts import grouped_bar_chart, hbar_chart, line_chart


def test_hbar_geometry_with_a_negative_value() -> None:
    # width 640: labels take 190, values 70, so 380 px span the range [-1, 2]; zero sits at 190 + 380/3
    svg = hbar_chart([("a", 2.0), ("b", -1.0)], "T")
    rects = re.findall(r"<rect x='([\d.]+)' y='(\d+)' width='([\d.]+)'", svg)
    assert rects == [("316.7", "24", "253.3"), ("190.0", "44", "126.7")]
    assert "<title>T</title>" in svg


def test_grouped_bars_skip_missing_values_and_scale_to_the_maximum() -> None:
    svg = grouped_bar_chart(["x", "y"], {"s1": [4.0, None], "s2": [2.0, 1.0]}, "G", width=640)
    heights = re.findall(r"height='([\d.]+)' fill", svg)
    # plot height 240 - 34 - 60 = 146: 4 -> 146, 2 -> 73, 1 -> 36.5; the None bar is not drawn
    assert [float(h) for h in heights if float(h) not in (10.0,)] == [146.0, 73.0, 36.5]


def test_line_chart_draws_threshold_and_gaps_and_escapes_text() -> None:
    svg = line_chart(["2026-07", "2026-08", "2026-09"], {"<E1>": [1.2, None, 0.8]}, "R & D", threshold=1.0)
    assert "&lt;E1&gt;" in svg and "R &amp; D" in svg and "<E1>" not in svg
    assert svg.count("<circle") == 2 and "stroke-dasharray" in svg
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")
