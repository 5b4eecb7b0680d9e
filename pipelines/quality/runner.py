"""The one runner of SQL rules (V cross-column and cross-file, Q, M; :mod:`pipelines.quality.rules`).

It evaluates rules over a **context table** of the submissions in scope (:data:`CONTEXT_SQL`): per
submission its enterprise and type, period, version, the previous period's current version (``prev_sid``)
and the version of the same period that was current when it was received (``prior_sid``). "Current" =
accepted and not superseded. Each rule runs once over the submissions it applies to (its enterprise types,
and the files it reads owed by the type, ``dbt_project/seeds/filing_requirements.csv``), with the context
restricted to them in ``_rule_subs``; its findings are capped per submission (the true count kept).

SKIPPED (rules.md): a rule that needs another period (``needs_previous``: the previous period's current
version; ``needs_history``: ``min_history`` earlier periods among the last ``max_history``, thresholds
resolved at the submission's period end and type) records SKIPPED when it is missing, and
:func:`reevaluate_skipped` runs it again once the prerequisite is there. A later result never changes the
submission's status: its findings are stored and feed reports and indicators.

:func:`write` records findings and rule results in one transaction (when the caller has none open).

Findings are written per submission in order of first appearance, a rule's findings in the order of the
capped query, which is ordered by submission, row, record key and message: ``quality.findings.finding_id``
(a sequence) is the same in every run of the same cycle. (Without that ORDER BY, DuckDB returned the
submissions in a thread-dependent order and two runs numbered the same findings differently:
docs/reliability.md.)
"""

from __future__ import annotations

import csv
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

import duckdb

from pipelines import faults
from pipelines.quality.findings import FINDING_CAP, Finding, RuleResult, record_findings, record_rule_results
from pipelines.quality.rules import ACCEPTED, SUBS, Rule
from pipelines.quality.suites import ENTERPRISE_OF_SID, PERIOD_START
from pipelines.quality.thresholds import threshold_sql
from pipelines.reference import seed_path

ALL_SUBS = "_rule_subs_all"
FINDING_ORDER = "_row nulls last, record_key, message"


class RuleError(RuntimeError):
    """A rule could not be evaluated (a broken query): not a filing error."""


@cache
def owed_filing_types() -> dict[str, frozenset[str]]:
    """Enterprise type -> the filing types it owes (``filing_requirements.csv``)."""
    owed: dict[str, set[str]] = defaultdict(set)
    with seed_path("filing_requirements.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            owed[row["ent_type"].strip()].add(row["filing_type"].strip())
    return {k: frozenset(v) for k, v in owed.items()}


def ent_type_of(submission_id: str) -> str:
    enterprise_id = submission_id.rsplit("-", 3)[0]
    return enterprise_id[:-4]


def applies(r: Rule, ent_type: str) -> bool:
    return r.applies(ent_type, owed_filing_types().get(ent_type, frozenset()))


_SID = {"enterprise": ENTERPRISE_OF_SID, "start": PERIOD_START}
_SID = {k: v.replace("{{", "{").replace("}}", "}") for k, v in _SID.items()}

# The context of each submission (the submission id names its enterprise and period, so a submission not
# yet in intake.submissions - a validity test's - has a context too).
CONTEXT_SQL = f"""
with s as (
    select v.submission_id, {_SID["enterprise"].replace("submission_id", "v.submission_id")} as enterprise_id,
        {_SID["start"].replace("submission_id", "v.submission_id")} as period_start, i.version, i.received_at
    from (select unnest($sids) as submission_id) v
    left join intake.submissions i on i.submission_id = v.submission_id
),
cur as (select enterprise_id, period, submission_id from intake.submissions where status in {ACCEPTED})
select s.submission_id, s.enterprise_id, left(s.enterprise_id, length(s.enterprise_id) - 4) as ent_type,
    strftime(s.period_start, '%Y-%m') as period, s.version, s.received_at, s.period_start,
    last_day(s.period_start) as period_end,
    (select c.submission_id from cur c where c.enterprise_id = s.enterprise_id
        and c.period = strftime(s.period_start - interval 1 month, '%Y-%m')) as prev_sid,
    (select arg_max(o.submission_id, o.version) from intake.submissions o
        where o.enterprise_id = s.enterprise_id and o.period = strftime(s.period_start, '%Y-%m')
          and o.version < s.version
          and exists (select 1 from intake.submission_events e where e.submission_id = o.submission_id
                      and e.status in {ACCEPTED} and e.event_at <= s.received_at)) as prior_sid
from s"""


def _skip_when(r: Rule) -> str:
    """SQL condition on a context row ``x`` under which the rule is SKIPPED."""
    conds = ["false"]
    if r.needs_previous:
        conds.append("x.prev_sid is null")
    if r.needs_history:
        ind = r.entry.fq_id or r.rule_id
        max_history = threshold_sql(ind, "max_history", ent_type="x.ent_type", on="x.period_end")
        min_history = threshold_sql(ind, "min_history", ent_type="x.ent_type", on="x.period_end")
        conds.append(
            f"""(select count(*) from intake.submissions c where c.status in {ACCEPTED}
                and c.enterprise_id = x.enterprise_id and c.period < x.period
                and c.period >= strftime(x.period_start - to_months(cast({max_history} as integer)), '%Y-%m'))
            < {min_history}"""
        )
    return " or ".join(conds)


@dataclass
class Evaluation:
    """What a set of rules found on a set of submissions (nothing written yet)."""

    counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (sid, rule) -> true count, run rules
    findings: list[Finding] = field(default_factory=list)  # capped per submission and rule
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (sid, rule) SKIPPED
    run: list[tuple[str, str]] = field(default_factory=list)  # (sid, rule) evaluated


def create_context(con: duckdb.DuckDBPyConnection, submission_ids: Sequence[str]) -> None:
    con.execute(f"create or replace temp table {ALL_SUBS} as {CONTEXT_SQL}", {"sids": list(submission_ids)})


def drop_context(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"drop table if exists {SUBS}")
    con.execute(f"drop table if exists {ALL_SUBS}")


def plan(con: duckdb.DuckDBPyConnection, r: Rule, sids: Sequence[str]) -> tuple[list[str], list[str]]:
    """(run, skipped): the submissions of ``sids`` (in the context) the rule applies to, split on its
    SKIPPED condition."""
    rows = con.execute(
        f"select x.submission_id, x.ent_type, ({_skip_when(r)}) as skip from {ALL_SUBS} x "
        f"where x.submission_id in (select unnest(?)) and ({r.sql_definition.applies_when})",
        [list(sids)],
    ).fetchall()
    run = [sid for sid, ent, skip in rows if applies(r, ent) and not skip]
    skipped = [sid for sid, ent, skip in rows if applies(r, ent) and skip]
    return run, skipped


def evaluate_rule(
    con: duckdb.DuckDBPyConnection, r: Rule, sids: Sequence[str]
) -> tuple[dict[str, int], list[Finding]]:
    """Run one rule on the given submissions of the context; true counts per submission and the capped
    findings."""
    con.execute(
        f"create or replace temp table {SUBS} as select * from {ALL_SUBS} where submission_id in (select unnest(?))",
        [list(sids)],
    )
    sql = f"""select *, count(*) over (partition by submission_id) as __n from ({r.sql()}) as __f
        qualify row_number() over (partition by submission_id order by {FINDING_ORDER}) <= {FINDING_CAP}
        order by submission_id, {FINDING_ORDER}"""
    try:
        rel = con.sql(sql)
        cols = rel.columns
        rows = rel.fetchall()
    except duckdb.Error as exc:
        raise RuleError(f"rule {r.rule_id} could not be evaluated: {exc}") from exc
    counts: dict[str, int] = {}
    findings = []
    for values in rows:
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


def evaluate(
    con: duckdb.DuckDBPyConnection,
    rules: Sequence[Rule],
    submission_ids: Sequence[str],
    *,
    only: Mapping[str, set[str]] | None = None,
    timings: dict[str, float] | None = None,
) -> Evaluation:
    """Evaluate ``rules`` on the submissions (``only`` limits a rule to some of them); write nothing but
    temp tables on ``con``."""
    sids = list(dict.fromkeys(submission_ids))
    out = Evaluation()
    if not sids:
        return out
    create_context(con, sids)
    try:
        for r in rules:
            t0 = time.perf_counter()
            targets = [s for s in sids if only is None or s in only.get(r.rule_id, ())]
            if not targets:
                continue
            run, skipped = plan(con, r, targets)
            counts, found = evaluate_rule(con, r, run) if run else ({}, [])
            out.findings += found
            for sid in run:
                out.counts[(sid, r.rule_id)] = counts.get(sid, 0)
                out.run.append((sid, r.rule_id))
            out.skipped += [(sid, r.rule_id) for sid in skipped]
            if timings is not None:
                timings[f"sql:{r.rule_id}"] = time.perf_counter() - t0
    finally:
        drop_context(con)
    return out


def write(
    con: duckdb.DuckDBPyConnection,
    findings: Iterable[Finding],
    results: Sequence[RuleResult],
    *,
    found_at: datetime,
    attempt_of: Mapping[str, int] | None = None,
    order: Sequence[str] | None = None,
    checkpoint: str = "rules.write",
) -> None:
    """Record findings (per submission: those of ``order`` first, in that order, then the others in order
    of first appearance) and rule results, in one transaction unless the caller has one open."""
    attempt_of = attempt_of or {}
    by_sid: dict[str, list[Finding]] = {sid: [] for sid in order or ()}
    for f in findings:
        by_sid.setdefault(f.submission_id, []).append(f)
    own_tx = begin(con)
    try:
        for sid, fs in by_sid.items():
            record_findings(con, fs, found_at=found_at, attempt=attempt_of.get(sid, 1))
        record_rule_results(con, results, evaluated_at=found_at)
        faults.checkpoint(checkpoint)  # written, not committed
        if own_tx:
            con.commit()
    except BaseException:
        if own_tx:
            con.rollback()
        raise


def results_of(ev: Evaluation, attempt_of: Mapping[str, int] | None = None) -> list[RuleResult]:
    attempt_of = attempt_of or {}
    out = [RuleResult(sid, rid, ev.counts[(sid, rid)], attempt_of.get(sid, 1)) for sid, rid in ev.run]
    out += [
        RuleResult(sid, rid, 0, attempt_of.get(sid, 1), skipped=True, detail="needs another period")
        for sid, rid in ev.skipped
    ]
    return out


def error_counts(rules: Sequence[Rule], counts: Mapping[tuple[str, str], int]) -> dict[str, int]:
    """Error findings (live error rules, true counts) per submission, from (sid, rule) counts."""
    live = {r.rule_id for r in rules if r.counts_as_error}
    errors: dict[str, int] = defaultdict(int)
    for (sid, rid), n in counts.items():
        if rid in live:
            errors[sid] += n
    return dict(errors)


def run_rules(
    con: duckdb.DuckDBPyConnection,
    rules: Sequence[Rule],
    submission_ids: Sequence[str],
    *,
    found_at: datetime,
    attempt_of: Mapping[str, int] | None = None,
    only: Mapping[str, set[str]] | None = None,
) -> dict[str, int]:
    """Evaluate ``rules`` on the submissions and record findings and rule results (SKIPPED where a period
    they need is missing). ``only`` limits a rule to some submissions (re-evaluation). Returns the error
    count (live error rules, true counts) per submission evaluated."""
    if not submission_ids:
        return {}
    ev = evaluate(con, rules, submission_ids, only=only)
    write(con, ev.findings, results_of(ev, attempt_of), found_at=found_at, attempt_of=attempt_of)
    return error_counts(rules, ev.counts)


def reevaluate_skipped(
    con: duckdb.DuckDBPyConnection, rules: Sequence[Rule], *, found_at: datetime
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
    create_context(con, sids)
    ready = []
    try:
        for r in rules:
            if r.rule_id in only:
                run, _ = plan(con, r, sorted(only[r.rule_id]))
                only[r.rule_id] = set(run)
                ready += run
    finally:
        drop_context(con)
    if not ready:
        return {}
    return run_rules(con, rules, sorted(set(ready)), found_at=found_at, attempt_of=attempt_of, only=only)


def in_transaction(con: duckdb.DuckDBPyConnection) -> bool:
    """True when ``con`` is inside an explicit transaction (each autocommit statement gets a new txid).

    DuckDB's Python API has no flag for it, and a failed ``begin`` aborts the caller's transaction."""
    txid = "select txid_current()"
    return con.sql(txid).fetchall()[0][0] == con.sql(txid).fetchall()[0][0]


def begin(con: duckdb.DuckDBPyConnection) -> bool:
    """Open a transaction unless the caller has one open; True when we opened it."""
    if in_transaction(con):
        return False
    con.begin()
    return True
