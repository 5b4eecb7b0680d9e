"""The quality (Q) and macro (M) stages, after validity: Q runs on submissions without V errors, M on those
without Q errors (rules.md: a stage runs only if the previous one raised no errors). Both are the SQL rules
of their stage (:mod:`pipelines.quality.rules`) run by :mod:`pipelines.quality.runner`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb

from pipelines.quality.catalog import load_catalog
from pipelines.quality.rules import sql_rules
from pipelines.quality.runner import reevaluate_skipped, run_rules

QUALITY_RULES = sql_rules("Q")
MACRO_RULES = sql_rules("M")
WAREHOUSE_RULES = QUALITY_RULES + MACRO_RULES


def run_quality_and_macro(
    con: duckdb.DuckDBPyConnection, submission_ids: Sequence[str], *, found_at: datetime
) -> dict[str, int]:
    """Run Q then M on the given (validity-clean) submissions; return their error counts. A stage whose
    results are already recorded for a submission (a cycle killed before its decision) is not run again."""
    q_errors = _once(con, "Q", QUALITY_RULES, submission_ids, found_at)
    passed = [s for s in submission_ids if not q_errors.get(s)]
    m_errors = _once(con, "M", MACRO_RULES, passed, found_at)
    return {s: q_errors.get(s, 0) + m_errors.get(s, 0) for s in submission_ids}


def _once(con, stage: str, rules, submission_ids: Sequence[str], found_at: datetime) -> dict[str, int]:
    from pipelines import faults

    errors = recorded_errors(con, submission_ids, stage)
    todo = [s for s in submission_ids if s not in errors]
    faults.checkpoint(f"stage.{stage}")
    if todo:
        errors.update(run_rules(con, rules, todo, found_at=found_at))
    return errors


def recorded_errors(
    con: duckdb.DuckDBPyConnection, submission_ids: Sequence[str], stage: str
) -> dict[str, int]:
    """Error counts (live error rules, true counts) of the submissions that have rule results of `stage`
    recorded; submissions without any are left out. A stage writes all its results of a submission in one
    transaction, so results present mean the stage completed for it."""
    if not submission_ids:
        return {}
    catalog = load_catalog()
    out: dict[str, int] = {}
    for sid, rule_id, n in con.execute(
        "select submission_id, rule_id, finding_count from quality.rule_results "
        "where submission_id in (select unnest(?)) and status <> 'SKIPPED'",
        [list(submission_ids)],
    ).fetchall():
        r = catalog[rule_id]
        if r.stage != stage:
            continue
        out.setdefault(sid, 0)
        if r.severity == "error" and not r.shadow:
            out[sid] += int(n)
    for (sid,) in con.execute(  # submissions whose results of the stage are all SKIPPED
        "select distinct submission_id from quality.rule_results where submission_id in (select unnest(?)) "
        "and status = 'SKIPPED' and rule_id in (select unnest(?))",
        [list(submission_ids), [k for k, r in catalog.items() if r.stage == stage]],
    ).fetchall():
        out.setdefault(sid, 0)
    return out


def reevaluate(con: duckdb.DuckDBPyConnection, *, found_at: datetime) -> dict[str, int]:
    """Re-run SKIPPED rules whose missing period has arrived (statuses unchanged)."""
    return reevaluate_skipped(con, WAREHOUSE_RULES, found_at=found_at)
