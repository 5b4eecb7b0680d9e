"""Inline SVG charts for self-contained HTML reports: no JavaScript, no fonts or files to fetch.

Three shapes cover the reports: horizontal bars (rankings, counts by category), grouped vertical bars
(a few series over a few categories, e.g. an enterprise against its peers) and lines over periods
(with an optional threshold line). Each function returns an `<svg>` string; all text is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#1f5fa8", "#d9822b", "#3a8d4f", "#b23b3b", "#7a5aa6", "#6b6b6b", "#c4a000", "#2b9bb0")
FONT = "font-family='system-ui, sans-serif' font-size='11'"


def _fmt(v: float) -> str:
    a = abs(v)
    if a >= 1e9:
        return f"{v / 1e9:.2f}B"
    if a >= 1e6:
        return f"{v / 1e6:.2f}M"
    if a >= 1e4:
        return f"{v / 1e3:.1f}k"
    if a >= 100 or v == int(v):
        return f"{v:,.0f}"
    return f"{v:.3g}"


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' role='img' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' {FONT}><title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _legend(names: Sequence[str], x: int, y: int, colors: Sequence[str] = PALETTE) -> list[str]:
    out, cx = [], x
    for i, name in enumerate(names):
        out.append(f"<rect x='{cx}' y='{y - 9}' width='10' height='10' fill='{colors[i % len(colors)]}'/>")
        out.append(f"<text x='{cx + 14}' y='{y}'>{escape(name)}</text>")
        cx += 24 + 7 * len(name)
    return out


def hbar_chart(
    items: Sequence[tuple[str, float]], title: str, *, width: int = 640, color: str = PALETTE[0]
) -> str:
    """One horizontal bar per (label, value), in the order given; negative values draw leftwards."""
    bar_h, gap, label_w, top = 16, 4, 190, 24
    height = top + len(items) * (bar_h + gap) + 8
    lo = min([0.0, *(v for _, v in items)])
    hi = max([0.0, *(v for _, v in items)])
    span = (hi - lo) or 1.0
    plot_w = width - label_w - 70
    zero_x = label_w + plot_w * (-lo / span)
    body = [f"<text x='4' y='14' font-weight='bold'>{escape(title)}</text>"]
    for i, (label, value) in enumerate(items):
        y = top + i * (bar_h + gap)
        w = plot_w * abs(value) / span
        x = zero_x - w if value < 0 else zero_x
        body.append(
            f"<text x='{label_w - 6}' y='{y + 12}' text-anchor='end'>{escape(str(label)[:32])}</text>"
        )
        body.append(f"<rect x='{x:.1f}' y='{y}' width='{max(w, 0.5):.1f}' height='{bar_h}' fill='{color}'/>")
        body.append(f"<text x='{max(x + w, zero_x) + 4:.1f}' y='{y + 12}'>{_fmt(value)}</text>")
    body.append(f"<line x1='{zero_x:.1f}' x2='{zero_x:.1f}' y1='{top - 4}' y2='{height - 6}' stroke='#999'/>")
    return _svg(width, height, body, title)


def grouped_bar_chart(
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    title: str,
    *,
    width: int = 640,
    colors: Sequence[str] = PALETTE,
) -> str:
    """Vertical bars: for each category one bar per series (None = no bar), with a legend."""
    height, top, bottom, left = 240, 34, 60, 50
    names = list(series)
    values = [v for s in series.values() for v in s if v is not None]
    hi = max([0.0, *values]) or 1.0
    plot_h, plot_w = height - top - bottom, width - left - 10
    group_w = plot_w / max(len(categories), 1)
    bar_w = max(min(group_w * 0.8 / max(len(names), 1), 40), 2)
    body = [
        f"<text x='4' y='14' font-weight='bold'>{escape(title)}</text>",
        *_legend(names, left, 28, colors),
    ]
    body.append(f"<text x='4' y='{top + 8}'>{_fmt(hi)}</text><text x='4' y='{top + plot_h}'>0</text>")
    for ci, cat in enumerate(categories):
        gx = left + ci * group_w + group_w * 0.1
        for si, name in enumerate(names):
            v = series[name][ci]
            if v is None:
                continue
            h = plot_h * max(v, 0) / hi
            body.append(
                f"<rect x='{gx + si * bar_w:.1f}' y='{top + plot_h - h:.1f}' width='{bar_w:.1f}' height='{h:.1f}' "
                f"fill='{colors[si % len(colors)]}'><title>{escape(f'{cat} {name}: {_fmt(v)}')}</title></rect>"
            )
        lx, ly = gx + group_w * 0.4, top + plot_h + 12
        body.append(
            f"<text x='{lx:.1f}' y='{ly}' text-anchor='end' transform='rotate(-35 {lx:.1f} {ly})'>"
            f"{escape(str(cat)[:18])}</text>"
        )
    body.append(
        f"<line x1='{left}' x2='{width - 10}' y1='{top + plot_h}' y2='{top + plot_h}' stroke='#999'/>"
    )
    return _svg(width, height, body, title)


def line_chart(
    periods: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    title: str,
    *,
    threshold: float | None = None,
    width: int = 640,
) -> str:
    """One line per series over the periods (None = a gap), an optional dashed threshold line."""
    height, top, bottom, left = 240, 34, 30, 50
    names = list(series)
    values = [v for s in series.values() for v in s if v is not None]
    if threshold is not None:
        values.append(threshold)
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    pad = (hi - lo) * 0.08 or abs(hi) * 0.1 or 1.0  # a flat series still gets a visible band
    lo, hi = lo - pad, hi + pad
    span = hi - lo
    plot_h, plot_w = height - top - bottom, width - left - 40  # room for the last period label
    step = plot_w / max(len(periods) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top + plot_h * (hi - v) / span

    body = [f"<text x='4' y='14' font-weight='bold'>{escape(title)}</text>", *_legend(names[:8], left, 28)]
    body.append(
        f"<text x='4' y='{top + 8}'>{_fmt(hi)}</text><text x='4' y='{top + plot_h}'>{_fmt(lo)}</text>"
    )
    for i, p in enumerate(periods):
        body.append(
            f"<text x='{left + i * step:.1f}' y='{height - 8}' text-anchor='middle'>{escape(p)}</text>"
        )
    if threshold is not None:
        _, ty = xy(0, threshold)
        body.append(
            f"<line x1='{left}' x2='{left + plot_w}' y1='{ty:.1f}' y2='{ty:.1f}' stroke='#b23b3b' stroke-dasharray='5,4'/>"
            f"<text x='{left + plot_w}' y='{ty - 3:.1f}' text-anchor='end' fill='#b23b3b'>threshold {_fmt(threshold)}</text>"
        )
    for si, name in enumerate(names):
        color = PALETTE[si % len(PALETTE)]
        points = [(i, v) for i, v in enumerate(series[name]) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in points))
            body.append(f"<polyline points='{path}' fill='none' stroke='{color}' stroke-width='1.5'/>")
        for i, v in points:
            x, y = xy(i, v)
            body.append(
                f"<circle cx='{x:.1f}' cy='{y:.1f}' r='2.5' fill='{color}'>"
                f"<title>{escape(f'{name} {periods[i]}: {_fmt(v)}')}</title></circle>"
            )
    body.append(
        f"<line x1='{left}' x2='{left + plot_w}' y1='{top + plot_h}' y2='{top + plot_h}' stroke='#999'/>"
    )
    return _svg(width, height, body, title)
