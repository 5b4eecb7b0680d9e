"""The quality (Q) and macro (M) stages, after validity: Q runs on submissions without V errors, M on those
without Q errors (rules.md: a stage runs only if the previous one raised no errors)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb

from pipelines.quality.macro_rules import MACRO_RULES
from pipelines.quality.quality_rules import QUALITY_RULES
from pipelines.quality.rule_stage import reevaluate_skipped, run_rules

WAREHOUSE_RULES = QUALITY_RULES + MACRO_RULES


def run_quality_and_macro(
    con: duckdb.DuckDBPyConnection, submission_ids: Sequence[str], *, found_at: datetime
) -> dict[str, int]:
    """Run Q then M on the given (validity-clean) submissions; return their error counts."""
    q_errors = run_rules(con, QUALITY_RULES, submission_ids, found_at=found_at)
    passed = [s for s in submission_ids if not q_errors.get(s)]
    m_errors = run_rules(con, MACRO_RULES, passed, found_at=found_at)
    return {s: q_errors.get(s, 0) + m_errors.get(s, 0) for s in submission_ids}


def reevaluate(con: duckdb.DuckDBPyConnection, *, found_at: datetime) -> dict[str, int]:
    """Re-run SKIPPED rules whose missing period has arrived (statuses unchanged)."""
    return reevaluate_skipped(con, WAREHOUSE_RULES, found_at=found_at)
