"""Edit reports: one per submission, from the stored findings, in CSV, JSON and HTML (spec/rules.md).

CSV: stage, rule_id, rule_title, severity, filing_type, row_number, record_key, field_n, value_n, …,
description. Values a spreadsheet would execute (=, +, -, @ first) are neutralised with a leading '.
Only the submission's own findings are included (a filer never sees other enterprises' data).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import duckdb

from pipelines.quality.catalog import load_catalog
from pipelines.reports import edit_report_html

JSON_FINDINGS_LIMIT = 1000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _findings(con: duckdb.DuckDBPyConnection, sid: str) -> list[dict]:
    cur = con.execute(
        """select stage, rule_id, severity, filing_type, row_number, record_key, fields, message, attempt
           from quality.findings
           where submission_id = $sid and not shadow
             and attempt = (select max(attempt) from quality.findings where submission_id = $sid)
           order by case stage when 'S' then 1 when 'V' then 2 when 'Q' then 3 else 4 end, rule_id, row_number""",
        {"sid": sid},
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def write_edit_report(con: duckdb.DuckDBPyConnection, out_dir: Path, sid: str) -> Path:
    catalog = load_catalog()
    sub = con.execute(
        "select status, status_reason, enterprise_id, period from intake.submissions where submission_id = ?",
        [sid],
    ).fetchone()
    findings = _findings(con, sid)
    counts = con.execute(
        """select rule_id, sum(finding_count) from quality.rule_results
           where submission_id = ? and status = 'FAIL' group by 1 order by 1""",
        [sid],
    ).fetchall()
    out_dir.mkdir(parents=True, exist_ok=True)
    max_fields = max((len(json.loads(f["fields"] or "[]")) for f in findings), default=0)
    csv_path = out_dir / f"{sid}.csv"
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        head = ["stage", "rule_id", "rule_title", "severity", "filing_type", "row_number", "record_key"]
        for i in range(1, max_fields + 1):
            head += [f"field_{i}", f"value_{i}"]
        w.writerow(head + ["description"])
        for f in findings:
            pairs = []
            for item in json.loads(f["fields"] or "[]"):
                pairs += [item["field"], item["value"]]
            pairs += [""] * (2 * max_fields - len(pairs))
            row = [
                f["stage"],
                f["rule_id"],
                catalog[f["rule_id"]].title,
                f["severity"],
                f["filing_type"],
                f["row_number"],
                f["record_key"],
                *pairs,
                f["message"],
            ]
            w.writerow([neutralise(v) for v in row])
    by_stage: dict[str, int] = {}
    for rule_id, n in counts:
        by_stage[catalog[rule_id].stage] = by_stage.get(catalog[rule_id].stage, 0) + int(n)
    doc = {
        "submission_id": sid,
        "enterprise_id": sub[2] if sub else None,
        "period": sub[3] if sub else None,
        "status": sub[0] if sub else None,
        "status_reason": sub[1] if sub else None,
        "counts_by_stage": by_stage,
        "counts_by_rule": {r: int(n) for r, n in counts},
        "total_findings": sum(int(n) for _, n in counts),
        "findings_shown": min(len(findings), JSON_FINDINGS_LIMIT),
        "findings": [
            {
                **{k: v for k, v in f.items() if k != "fields"},
                "rule_title": catalog[f["rule_id"]].title,
                "fields": json.loads(f["fields"] or "[]"),
            }
            for f in findings[:JSON_FINDINGS_LIMIT]
        ],
    }
    (out_dir / f"{sid}.json").write_text(
        json.dumps(doc, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )
    page = edit_report_html.render(sid, sub, {r: int(n) for r, n in counts}, findings, catalog)
    edit_report_html.write(out_dir / f"{sid}.html", page)
    return csv_path


def write_edit_reports(
    con: duckdb.DuckDBPyConnection, out_dir: Path, submission_ids: Sequence[str]
) -> list[Path]:
    return [write_edit_report(con, out_dir, sid) for sid in submission_ids]
