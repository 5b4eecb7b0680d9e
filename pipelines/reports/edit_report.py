"""Edit reports: one per submission, from the stored findings, in CSV, JSON and HTML (spec/rules.md).

CSV: stage, rule_id, rule_title, severity, filing_type, row_number, record_key, field_n, value_n, …,
description. Values a spreadsheet would execute (=, +, -, @ first) are neutralised with a leading '.
Only the submission's own findings are included (a filer never sees other enterprises' data).
"""

from __future__ import annotations

import csv
import json
import os
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
           order by case stage when 'S' then 1 when 'V' then 2 when 'Q' then 3 else 4 end, rule_id, row_number,
               filing_type, record_key, message, fields::varchar""",
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
    tmp = _tmp(csv_path)
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
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
    os.replace(tmp, csv_path)
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
    write_atomic(out_dir / f"{sid}.json", json.dumps(doc, indent=2, ensure_ascii=False, default=str))
    page = edit_report_html.render(sid, sub, {r: int(n) for r, n in counts}, findings, catalog)
    edit_report_html.write(out_dir / f"{sid}.html", page)
    return csv_path


def write_edit_reports(
    con: duckdb.DuckDBPyConnection, out_dir: Path, submission_ids: Sequence[str]
) -> list[Path]:
    return [write_edit_report(con, out_dir, sid) for sid in submission_ids]


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def write_atomic(path: Path, text: str) -> Path:
    """Write a report file whole or not at all: a temporary file beside it, then a rename."""
    tmp = _tmp(path)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


# Bump when the edit reports' layout changes: every report is then written again.
REPORT_VERSION = "edit-1"
FINGERPRINTS = ".fingerprints.json"
SUFFIXES = (".csv", ".json", ".html")


def input_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Per submission, a digest of what its edit report shows: its status and the findings and rule
    results recorded for it (both are only ever appended, so their counts and largest ids change with them)."""
    rows = con.execute(
        """with f as (select submission_id, count(*) as n, max(finding_id) as last from quality.findings group by 1),
           r as (select submission_id, count(*) as n, sum(finding_count) as total, max(attempt) as attempt
                 from quality.rule_results group by 1)
        select s.submission_id,
               md5(row(?, s.status, s.status_reason, s.status_at, s.enterprise_id, s.period,
                       f.n, f.last, r.n, r.total, r.attempt)::varchar)
        from intake.submissions s left join f using (submission_id) left join r using (submission_id)
        order by 1""",
        [REPORT_VERSION],
    ).fetchall()
    return dict(rows)


def refresh_edit_reports(
    con: duckdb.DuckDBPyConnection, out_dir: Path, submission_ids: Sequence[str] = ()
) -> list[Path]:
    """Write the edit report of every submission that has none, or whose recorded input fingerprint
    (out_dir/.fingerprints.json) differs from its current one, plus those given; return what was written.

    A cycle ends with it, so a cycle killed before or while writing reports leaves none missing or stale
    after the next one. The fingerprints are saved after the reports (a crash in between rewrites them)."""
    from pipelines import faults

    current = input_fingerprints(con)
    recorded_path = out_dir / FINGERPRINTS
    try:
        recorded = json.loads(recorded_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        recorded = {}
    forced = set(submission_ids)
    todo = [
        sid
        for sid, fp in current.items()
        if sid in forced
        or recorded.get(sid) != fp
        or not all((out_dir / f"{sid}{suffix}").exists() for suffix in SUFFIXES)
    ]
    written = []
    for sid in todo:
        faults.checkpoint("edit_report")
        written.append(write_edit_report(con, out_dir, sid))
    if todo or recorded != current:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(recorded_path, json.dumps(current, indent=1, sort_keys=True))
    return written
