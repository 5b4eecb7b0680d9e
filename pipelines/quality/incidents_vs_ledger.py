"""M007 (X-13, rules.md): an unplanned outage the enterprise reports must show in its ledger.

Each unplanned outage (incident_type outage, planned false) is checked over the busy hours it covers -
busy as OPS-003 defines them, from the dbt macro ``busy_hours`` compiled into
``pipelines/quality/sql/busy_hours.sql`` (one definition for the indicator and the rule), computed on the
checked submission's own customer legs. Over those busy minutes the outage is consistent with the ledger
when the ok customer legs booked there stand below ``outage_max_volume_share`` (FQ-004 rows of the thresholds seed) of the slots' usual legs (their
medians, pro rata of the minutes covered) or the failed customer legs exceed the slots' usual failed legs.
An outage covering fewer than ``outage_min_busy_minutes`` busy minutes is not judged (too few legs to tell).
Otherwise it is a finding: the incident's times or the transactions filed for them are wrong.
"""

from __future__ import annotations

from pipelines.calendar import SHANGHAI
from pipelines.quality.compiled_macros import BUSY_HOURS, compiled_sql
from pipelines.quality.rules import SUBS, cur, fields, msg, rk, sql_rule
from pipelines.quality.thresholds import threshold_sql

COMPARISONS = ("<", "<=", ">", ">=")


def _ops003(param: str, column: str = "value") -> str:
    """SQL: OPS-003's seed value (or comparison) of ``param`` for each checked submission, at its period end
    (as the mart's join_threshold reads it)."""
    return threshold_sql("OPS-003", param, ent_type="ent_type", on="period_end", column=column)


def _compare(value: str, param: str, times: str = "1") -> str:
    """SQL: ``value`` <the seed row's comparison> its threshold x ``times`` for M007's ``param`` (FQ-004
    rows), per checked submission at its period end - as dbt's compare_with() reads a joined seed row."""
    op = threshold_sql("FQ-004", param, ent_type="s.ent_type", on="s.period_end", column="comparison")
    limit = f"{threshold_sql('FQ-004', param, ent_type='s.ent_type', on='s.period_end')} * {times}"
    cases = " ".join(f"when '{c}' then {value} {c} {limit}" for c in COMPARISONS)
    return f"(case {op} {cases} end)"


@sql_rule("M007", requires=("incidents", "transactions"))
def m007() -> str:
    tz = SHANGHAI.key
    return f"""
with outages as (
    select i.submission_id, i._row, i.incident_id, i.started_at, i.ended_at,
        timezone('{tz}', i.started_at) as started,
        coalesce(timezone('{tz}', i.ended_at), cast(s.period_end + 1 as timestamp)) as ended
    from {cur("incidents")} i join {SUBS} s using (submission_id)
    where i.incident_type = 'outage' and not coalesce(i.planned, false) and i.started_at is not null
),
-- busy hours only where there is an unplanned outage to judge (most submissions have none)
__busy_hour_legs as (
    select submission_id as enterprise_id, timezone('{tz}', booked_at) as booked, status = 'ok' as is_ok
    from {cur("transactions")}
    where leg = 'customer' and status in ('ok', 'failed') and booked_at is not null
      and submission_id in (select submission_id from outages)
),
__busy_hour_periods as (
    select submission_id as enterprise_id, period, period_start, period_end,
        {_ops003("busy_lookback_days")} as lookback_days,
        {_ops003("busy_slot_min_legs")} as min_legs,
        {_ops003("busy_slot_min_legs", "comparison")} as min_legs_comparison,
        {_ops003("min_day_share")} as min_day_share,
        {_ops003("min_day_share", "comparison")} as min_day_share_comparison
    from {SUBS}
    where submission_id in (select submission_id from outages)
),
busy as (
{compiled_sql(BUSY_HOURS)}
),
windows as (
    select o.submission_id, o._row, o.incident_id,
        greatest(o.started, b.slot_hour) as w_start, least(o.ended, b.slot_hour + interval 1 hour) as w_end,
        b.median_legs, b.median_failed
    from outages o join busy b
      on b.enterprise_id = o.submission_id and b.slot_hour < o.ended and b.slot_hour + interval 1 hour > o.started
),
seen as (
    select w.submission_id, w._row, w.w_start,
        count(*) filter (where l.is_ok) as ok_legs, count(*) filter (where not l.is_ok) as failed_legs
    from windows w join __busy_hour_legs l
      on l.enterprise_id = w.submission_id and l.booked >= w.w_start and l.booked < w.w_end
    group by all
),
judged as (
    select w.submission_id, w._row, w.incident_id,
        sum(epoch(w.w_end - w.w_start)) / 60 as busy_minutes,
        sum(w.median_legs * epoch(w.w_end - w.w_start) / 3600) as usual_legs,
        sum(w.median_failed * epoch(w.w_end - w.w_start) / 3600) as usual_failed,
        coalesce(sum(s.ok_legs), 0) as ok_legs, coalesce(sum(s.failed_legs), 0) as failed_legs
    from windows w left join seen s using (submission_id, _row, w_start)
    group by all
)
select j.submission_id, 'incidents' as filing_type, j._row, {rk("incidents", "o")} as record_key,
    {
        fields(
            "incident_id=j.incident_id",
            "started_at=o.started_at",
            "ended_at=o.ended_at",
            "busy_minutes=cast(round(j.busy_minutes) as bigint)",
            "ok_customer_legs=j.ok_legs",
            "usual_legs=round(j.usual_legs, 1)",
            "failed_customer_legs=j.failed_legs",
            "usual_failed_legs=round(j.usual_failed, 1)",
        )
    } as fields,
    {
        msg(
            "unplanned outage ",
            "=j.incident_id",
            " covers ",
            "=cast(round(j.busy_minutes) as bigint)",
            " busy minutes, but the ledger shows ",
            "=j.ok_legs",
            " ok customer legs there (usually ",
            "=round(j.usual_legs, 1)",
            ") and ",
            "=j.failed_legs",
            " failed ones (usually ",
            "=round(j.usual_failed, 1)",
            "): an outage stops or fails customer legs. Correct the incident's started_at/ended_at or file "
            "the transactions as they were booked.",
        )
    } as message
from judged j join outages o using (submission_id, _row) join {SUBS} s using (submission_id)
where {_compare("j.busy_minutes", "outage_min_busy_minutes")}
  and not {_compare("j.ok_legs", "outage_max_volume_share", "j.usual_legs")}
  and not (j.failed_legs > j.usual_failed)"""
