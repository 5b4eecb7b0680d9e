"""The HTML edit report: one self-contained page per submission (inline CSS, no links, readable offline).

Rules are ranked by their true finding count (most first); each shows title, severity, stage, the
count, up to EXAMPLES example rows and what to fix (the catalog's `fix`, else its description).
Everything that comes from a filing or a finding is HTML-escaped.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from pipelines.quality.catalog import Rule

EXAMPLES = 10

CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin:1.6em 0 .3em}
.status{display:inline-block;padding:.2em .6em;border-radius:4px;background:#eee;font-weight:600}
.MALFORMED,.REJECTED{background:#f8d7da}.ACCEPTED{background:#d4edda}.ACCEPTED_WITH_WARNINGS{background:#fff3cd}
table{border-collapse:collapse;width:100%;margin:.4em 0}td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4}.error{color:#a00}.warning{color:#8a6d00}.fix{background:#eef6ff;padding:.5em .8em;border-left:4px solid #3a7bd5}
code{font-family:ui-monospace,monospace;word-break:break-all}.muted{color:#666}
"""


def _e(value: object) -> str:
    return "" if value is None else escape(str(value), quote=True)


def _fields(raw: str | None) -> str:
    items = json.loads(raw or "[]")
    return "<br>".join(f"<code>{_e(i['field'])}</code> = <code>{_e(i['value'])}</code>" for i in items)


def render(
    sid: str,
    sub: tuple | None,
    counts: dict[str, int],
    findings: list[dict],
    catalog: dict[str, Rule],
) -> str:
    """The page for one submission. `counts`: true count per rule; `findings`: the stored (capped) rows."""
    status, reason, ent, period = sub if sub else (None, None, None, None)
    counts = dict(counts)
    by_rule: dict[str, list[dict]] = {}
    for f in findings:
        by_rule.setdefault(f["rule_id"], []).append(f)
    for rid, rows in by_rule.items():
        counts.setdefault(rid, len(rows))  # a rule without a stored result: count what was stored
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Edit report {_e(sid)}</title><style>{CSS}</style></head><body>",
        f"<h1>Edit report: <code>{_e(sid)}</code></h1>",
        f"<p>Enterprise <b>{_e(ent)}</b>, period <b>{_e(period)}</b>. "
        f'Status <span class="status {_e(status)}">{_e(status)}</span></p>',
        f"<p>{_e(reason)}</p>",
    ]
    if not ranked:
        parts.append("<p>No findings: the submission passed every check.</p>")
    else:
        total = sum(n for _, n in ranked)
        parts.append(f"<h2>Summary: {total} finding(s) under {len(ranked)} rule(s)</h2>")
        parts.append(
            "<table><tr><th>rule</th><th>title</th><th>stage</th><th>severity</th><th>findings</th></tr>"
        )
        for rid, n in ranked:
            r = catalog[rid]
            parts.append(
                f'<tr><td><a href="#{_e(rid)}">{_e(rid)}</a></td><td>{_e(r.title)}</td><td>{_e(r.stage)}</td>'
                f'<td class="{_e(r.severity)}">{_e(r.severity)}</td><td>{n}</td></tr>'
            )
        parts.append("</table>")
    for rid, n in ranked:
        r = catalog[rid]
        rows = by_rule.get(rid, [])[:EXAMPLES]
        parts += [
            f'<h2 id="{_e(rid)}">{_e(rid)} {_e(r.title)} <span class="{_e(r.severity)}">'
            f"({_e(r.severity)}, stage {_e(r.stage)})</span>: {n} finding(s)</h2>",
            f"<p class=muted>{_e(r.description)}</p>",
            f'<div class="fix"><b>What to fix:</b> {_e(r.what_to_fix)}</div>',
        ]
        if rows:
            shown = f"first {len(rows)} of {n}" if n > len(rows) else f"all {n}"
            parts.append(f"<p class=muted>Examples ({shown}):</p>")
            parts.append(
                "<table><tr><th>filing type</th><th>row</th><th>record key</th><th>fields and values</th>"
                "<th>description</th></tr>"
            )
            for f in rows:
                parts.append(
                    f"<tr><td>{_e(f['filing_type'])}</td><td>{_e(f['row_number'])}</td>"
                    f"<td><code>{_e(f['record_key'])}</code></td><td>{_fields(f['fields'])}</td>"
                    f"<td>{_e(f['message'])}</td></tr>"
                )
            parts.append("</table>")
    parts.append(
        "<p class=muted>Row numbers count data rows from 1 (the first row after the header). "
        "The CSV and JSON edit reports beside this page hold every stored finding.</p></body></html>"
    )
    return "\n".join(parts)


def write(path: Path, html: str) -> Path:
    """Write the page atomically (a temporary file beside it, then a rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
