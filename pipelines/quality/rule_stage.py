"""The runner of the warehouse rule stages (Q and M, rules.md): SQL over the warehouse, one query per rule.

A :class:`WarehouseRule` is a query over the temp table ``_rule_subs`` (the submissions it is evaluated on,
with their context, see :data:`SUBS_SQL`) returning one row per finding with the columns of
:mod:`pipelines.quality.sql_rules`: submission_id, filing_type, _row, record_key, fields, message.

SKIPPED (rules.md): a rule that needs another period (``needs_previous``: the previous period's current
version; ``needs_history``: ``min_history`` earlier periods) records SKIPPED when it is missing, and
:func:`reevaluate_skipped` runs it again once the prerequisite is there. A later result never changes the
submission's status: its findings are stored and feed reports and indicators.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

from pipelines import faults
from pipelines.quality.catalog import rule as catalog_rule
from pipelines.quality.findings import FINDING_CAP, Finding, RuleResult, record_findings, record_rule_results
from pipelines.quality.thresholds import threshold
from pipelines.quality.validity import _begin, owed_filing_types

ENT_TYPES = ("PAY", "P2P", "CF", "WM")
SUBS = "_rule_subs"
ALL_SUBS = "_rule_subs_all"
ACCEPTED = "('ACCEPTED', 'ACCEPTED_WITH_WARNINGS')"

# Context of each submission: its period, the previous period's current version (prev_sid), the version of
# the same period that was current when it was received (prior_sid) and its number of earlier periods with
# a current version among the last max_history (history_n). "Current" = accepted and not superseded.
SUBS_SQL = f"""
with s as (
    select submission_id, enterprise_id, ent_type, period, version, received_at,
        strptime(period || '-01', '%Y-%m-%d')::date as period_start
    from intake.submissions where submission_id in (select unnest($sids))
),
cur as (select enterprise_id, period, submission_id from intake.submissions where status in {ACCEPTED})
select s.*, last_day(s.period_start) as period_end,
    (select c.submission_id from cur c where c.enterprise_id = s.enterprise_id
        and c.period = strftime(s.period_start - interval 1 month, '%Y-%m')) as prev_sid,
    (select count(*) from cur c where c.enterprise_id = s.enterprise_id and c.period < s.period
        and c.period >= strftime(s.period_start - to_months($max_history), '%Y-%m')) as history_n,
    (select arg_max(o.submission_id, o.version) from intake.submissions o
        where o.enterprise_id = s.enterprise_id and o.period = s.period and o.version < s.version
          and exists (select 1 from intake.submission_events e where e.submission_id = o.submission_id
                      and e.status in {ACCEPTED} and e.event_at <= s.received_at)) as prior_sid
from s"""


@dataclass(frozen=True)
class WarehouseRule:
    rule_id: str
    filing_types: tuple[str, ...]  # the files its findings point at (as in the catalog)
    sql: Callable[[], str]  # built when run: thresholds come from the seed
    requires: tuple[str, ...] = ()  # files read: the rule applies when the enterprise type owes them all
    ent_types: tuple[str, ...] = ENT_TYPES
    needs_previous: bool = False
    needs_history: bool = False
    applies_when: str = "true"  # SQL condition on _rule_subs columns (e.g. a resubmission)

    @property
    def reads(self) -> tuple[str, ...]:
        return self.requires or self.filing_types

    def skip_when(self) -> str:
        """SQL condition on the context under which the rule is SKIPPED."""
        conds = ["false"]
        if self.needs_previous:
            conds.append("prev_sid is null")
        if self.needs_history:
            conds.append(f"history_n < {int(threshold(self.fq_or_id, 'min_history'))}")
        return " or ".join(conds)

    @property
    def fq_or_id(self) -> str:
        return catalog_rule(self.rule_id).fq_id or self.rule_id


def cur(ft: str) -> str:
    """The raw rows of one filing type, for the submissions being checked."""
    return f"(select * from raw.{ft} where submission_id in (select submission_id from {SUBS}))"


def prev(ft: str) -> str:
    """The raw rows of the previous period's current version, tagged with the checked submission (cur_sid)."""
    return f"(select p.*, s.submission_id as cur_sid from raw.{ft} p join {SUBS} s on p.submission_id = s.prev_sid)"


# ------------------------------------------------------------------------------------------------------


def _applies(r: WarehouseRule, ent_type: str) -> bool:
    return ent_type in r.ent_types and set(r.reads) <= owed_filing_types().get(ent_type, frozenset())


@dataclass
class _Plan:
    run: list[str]
    skipped: list[str]


def _plan(con: duckdb.DuckDBPyConnection, r: WarehouseRule, sids: Sequence[str]) -> _Plan:
    rows = con.execute(
        f"select submission_id, ent_type, ({r.skip_when()}) as skip from {ALL_SUBS} "
        f"where submission_id in (select unnest(?)) and ({r.applies_when})",
        [list(sids)],
    ).fetchall()
    run = [sid for sid, ent, skip in rows if _applies(r, ent) and not skip]
    skipped = [sid for sid, ent, skip in rows if _applies(r, ent) and skip]
    return _Plan(run, skipped)


def _evaluate(
    con: duckdb.DuckDBPyConnection, r: WarehouseRule, sids: list[str]
) -> tuple[dict, list[Finding]]:
    con.execute(
        f"create or replace temp table {SUBS} as select * from {ALL_SUBS} where submission_id in (select unnest(?))",
        [sids],
    )
    sql = f"""select *, count(*) over (partition by submission_id) as __n from ({r.sql()}) as __f
        qualify row_number() over (partition by submission_id order by _row nulls last, record_key) <= {FINDING_CAP}"""
    try:
        rel = con.sql(sql)
    except duckdb.Error as exc:
        raise RuntimeError(f"rule {r.rule_id} could not be evaluated: {exc}") from exc
    cols = rel.columns
    counts: dict[str, int] = {}
    findings = []
    for values in rel.fetchall():
        row = dict(zip(cols, values, strict=True))
        counts[row["submission_id"]] = row["__n"]
        findings.append(
            Finding(
                submission_id=row["submission_id"],
                rule_id=r.rule_id,
                message=row["message"],
                filing_type=row["filing_type"],
                row_number=row["_row"],
                record_key=row["record_key"],
                fields=[(f["field"], f["value"]) for f in row["fields"] or []],
            )
        )
    return counts, findings


def _context(con: duckdb.DuckDBPyConnection, sids: Sequence[str]) -> None:
    con.execute(
        f"create or replace temp table {ALL_SUBS} as {SUBS_SQL}",
        {"sids": list(sids), "max_history": int(threshold("*", "max_history"))},
    )


def run_rules(
    con: duckdb.DuckDBPyConnection,
    rules: Sequence[WarehouseRule],
    submission_ids: Sequence[str],
    *,
    found_at: datetime,
    attempt_of: dict[str, int] | None = None,
    only: dict[str, set[str]] | None = None,
) -> dict[str, int]:
    """Evaluate ``rules`` on the submissions; record findings and rule results (SKIPPED where a period they
    need is missing). ``only`` limits a rule to some submissions (re-evaluation). Returns the error count
    (live error rules, true counts) per submission."""
    sids = list(dict.fromkeys(submission_ids))
    errors: dict[str, int] = defaultdict(int)
    if not sids:
        return {}
    attempt_of = attempt_of or {}
    _context(con, sids)
    results: list[RuleResult] = []
    findings: list[Finding] = []
    try:
        for r in rules:
            targets = [s for s in sids if only is None or s in only.get(r.rule_id, ())]
            if not targets:
                continue
            plan = _plan(con, r, targets)
            counts, found = _evaluate(con, r, plan.run) if plan.run else ({}, [])
            findings += found
            meta = catalog_rule(r.rule_id)
            for sid in plan.run:
                n = counts.get(sid, 0)
                results.append(RuleResult(sid, r.rule_id, n, attempt_of.get(sid, 1)))
                if meta.severity == "error" and not meta.shadow:
                    errors[sid] += n
            results += [
                RuleResult(
                    sid, r.rule_id, 0, attempt_of.get(sid, 1), skipped=True, detail="needs another period"
                )
                for sid in plan.skipped
            ]
    finally:
        con.execute(f"drop table if exists {SUBS}")
        con.execute(f"drop table if exists {ALL_SUBS}")
    by_sid: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_sid[f.submission_id].append(f)
    own_tx = _begin(con)
    try:
        for sid, fs in by_sid.items():
            record_findings(con, fs, found_at=found_at, attempt=attempt_of.get(sid, 1))
        record_rule_results(con, results, evaluated_at=found_at)
        faults.checkpoint("rules.write")  # written, not committed
        if own_tx:
            con.commit()
    except BaseException:
        if own_tx:
            con.rollback()
        raise
    return dict(errors)


def reevaluate_skipped(
    con: duckdb.DuckDBPyConnection, rules: Sequence[WarehouseRule], *, found_at: datetime
) -> dict[str, int]:
    """Run again the SKIPPED rules of current (accepted) submissions whose missing period has arrived since.

    Statuses are not touched: the findings are stored (rules.md). Returns error counts per submission."""
    ids = {r.rule_id for r in rules}
    rows = con.execute(
        f"""select r.submission_id, r.rule_id, max(r.attempt)
        from quality.rule_results r join intake.submissions s using (submission_id)
        where s.status in {ACCEPTED} and r.rule_id in (select unnest(?))
        group by all
        having bool_and(r.status = 'SKIPPED')""",
        [sorted(ids)],
    ).fetchall()
    if not rows:
        return {}
    only: dict[str, set[str]] = defaultdict(set)
    attempt_of = {}
    for sid, rule_id, attempt in rows:
        only[rule_id].add(sid)
        attempt_of[sid] = attempt
    sids = sorted(attempt_of)
    _context(con, sids)
    ready = []
    for r in rules:
        if r.rule_id in only:
            plan = _plan(con, r, sorted(only[r.rule_id]))
            only[r.rule_id] = set(plan.run)
            ready += plan.run
    con.execute(f"drop table if exists {ALL_SUBS}")
    if not ready:
        return {}
    return run_rules(con, rules, sorted(set(ready)), found_at=found_at, attempt_of=attempt_of, only=only)
