-- Rule hit rates (issue 4): per rule x period x enterprise type, over the latest result of each rule for
-- each submission (stg_quality__rule_results): how many submissions it was evaluated on (PASS or FAIL),
-- how many it found something in, the hit rate, the true number of findings, and how many it SKIPPED
-- (the period it needs had no accepted version yet). Every submission counts, whatever its status: a
-- rule's hit rate on past filings is what a shadow rule is promoted on (rules.md).

with

results as (
    select * from {{ ref('stg_quality__rule_results') }}
),

submissions as (
    select submission_id, ent_type, period from {{ ref('stg_intake__submissions') }}
),

rates as (
    select
        results.rule_id,
        results.stage,
        submissions.period,
        submissions.ent_type,
        count(*) filter (where results.status in ('PASS', 'FAIL')) as submissions_evaluated,
        count(*) filter (where results.status = 'FAIL') as submissions_with_findings,
        coalesce(sum(results.finding_count), 0) as findings_total,
        count(*) filter (where results.status = 'SKIPPED') as submissions_skipped
    from results
    inner join submissions on results.submission_id = submissions.submission_id
    group by results.rule_id, results.stage, submissions.period, submissions.ent_type
)

select
    rule_id,
    stage,
    period,
    ent_type,
    submissions_evaluated,
    submissions_with_findings,
    cast(submissions_with_findings as double) / nullif(submissions_evaluated, 0) as hit_rate,
    findings_total,
    submissions_skipped
from rates
