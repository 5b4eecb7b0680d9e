"""Recall and precision of the warehouse's flags against a ground-truth file.

A case is caught when ANY of its expected ids flags its submission (rules) or its enterprise × period
(indicators) — and, for record-level rules, a record listed in `records`. Expected ids are catalog
rule ids, stage wildcards (`S*`…), X-rule ids and FQ ids (resolved through the catalog's x_rule and
fq_id columns, and FQ ids also match the FQ indicator's own alerts) or indicator ids.
Precision is per id: of the flags an id raised, the share that belong to a case expecting it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.quality.catalog import load_catalog

STAGE_WILDCARDS = {"S*": "S", "V*": "V", "Q*": "Q", "M*": "M"}


@dataclass
class ClassScore:
    cls: str
    cases: int = 0
    caught: int = 0
    missed: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.caught / self.cases if self.cases else float("nan")


@dataclass
class IdScore:
    flag_id: str
    flags: int = 0
    true_flags: int = 0

    @property
    def precision(self) -> float:
        return self.true_flags / self.flags if self.flags else float("nan")


@dataclass
class Evaluation:
    classes: dict[str, ClassScore]
    ids: dict[str, IdScore]
    clean_submissions: int
    clean_with_errors: list[str]
    clean_with_warnings: list[str]

    def as_dict(self) -> dict:
        return {
            "classes": {
                k: {"cases": v.cases, "caught": v.caught, "recall": v.recall, "missed": v.missed}
                for k, v in sorted(self.classes.items())
            },
            "ids": {
                k: {"flags": v.flags, "true_flags": v.true_flags, "precision": v.precision}
                for k, v in sorted(self.ids.items())
            },
            "clean_submissions": self.clean_submissions,
            "clean_with_errors": self.clean_with_errors,
            "clean_with_warnings": self.clean_with_warnings,
        }


def read_truth(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _rule_ids_for(expected: str) -> set[str]:
    """Catalog rules an expected id stands for (empty for pure indicator ids)."""
    catalog = load_catalog()
    if expected in STAGE_WILDCARDS:
        return {r for r, rule in catalog.items() if rule.stage == STAGE_WILDCARDS[expected]}
    if expected in catalog:
        return {expected}
    return {r for r, rule in catalog.items() if expected in (rule.x_rule, rule.fq_id)}


def _alerts_table(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute(
        "select table_schema from information_schema.tables where table_name = 'fct_alerts' limit 1"
    ).fetchone()
    return f"{row[0]}.fct_alerts" if row else None


def evaluate(con: duckdb.DuckDBPyConnection, truth: list[dict]) -> Evaluation:
    findings = con.execute(
        """select f.submission_id, s.enterprise_id, s.period, f.rule_id, f.filing_type, f.record_key, f.severity
           from quality.findings f join intake.submissions s using (submission_id) where not f.shadow"""
    ).fetchall()
    alerts_table = _alerts_table(con)
    alerts = (
        con.execute(
            f"select enterprise_id, period, indicator_id from {alerts_table} "
            "where severity in ('BREACH', 'WARN')"
        ).fetchall()
        if alerts_table
        else []
    )
    by_sub_rule: dict[tuple[str, str], list[tuple[str | None, str | None]]] = defaultdict(list)
    for sid, _ent, _period, rule_id, ft, key, _sev in findings:
        by_sub_rule[(sid, rule_id)].append((ft, key))
    alert_set = {(e, p, i) for e, p, i in alerts}

    classes: dict[str, ClassScore] = {}
    expected_sub_rules: dict[str, set[str]] = defaultdict(set)  # rule_id -> submissions expecting it
    expected_ent_period: dict[str, set[tuple[str, str]]] = defaultdict(set)  # indicator -> (ent, period)
    for case in truth:
        score = classes.setdefault(case["class"], ClassScore(case["class"]))
        score.cases += 1
        ents = case["enterprise_id"] if isinstance(case["enterprise_id"], list) else [case["enterprise_id"]]
        records = {ft: set(keys) for ft, keys in (case.get("records") or {}).items()}
        case_sid: str | None = case.get("submission_id")
        caught = False
        for exp in case["expected"]:
            rules = _rule_ids_for(exp)
            for r in rules:
                hits = []
                if case_sid:
                    expected_sub_rules[r].add(case_sid)
                    hits = by_sub_rule.get((case_sid, r), [])
                if records:
                    hits = [h for h in hits if h[0] in records and h[1] in records[h[0]] or h[1] is None]
                caught = caught or bool(hits)
            if exp not in STAGE_WILDCARDS and exp not in load_catalog():
                for e in ents:
                    expected_ent_period[exp].add((e, case["period"]))
                    caught = caught or (e, case["period"], exp) in alert_set
        if caught:
            score.caught += 1
        else:
            score.missed.append(case["case_id"])

    ids: dict[str, IdScore] = {}
    flagged_subs: dict[str, set[str]] = defaultdict(set)
    for sid, _e, _p, rule_id, *_ in findings:
        flagged_subs[rule_id].add(sid)
    for rule_id, subs in flagged_subs.items():
        s = ids.setdefault(rule_id, IdScore(rule_id))
        s.flags = len(subs)
        s.true_flags = len(subs & expected_sub_rules.get(rule_id, set()))
    flagged_ep: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for e, p, i in alert_set:
        flagged_ep[i].add((e, p))
    for ind, eps in flagged_ep.items():
        s = ids.setdefault(ind, IdScore(ind))
        s.flags = len(eps)
        s.true_flags = len(eps & expected_ent_period.get(ind, set()))

    case_subs = {c.get("submission_id") for c in truth}
    submissions = [r[0] for r in con.execute("select submission_id from intake.submissions").fetchall()]
    clean = [s for s in submissions if s not in case_subs]
    err = sorted({sid for sid, *_, sev in findings if sev == "error" and sid in set(clean)})
    warn = sorted({sid for sid, *_, sev in findings if sev == "warning" and sid in set(clean)})
    return Evaluation(classes, ids, len(clean), err, warn)
