-- Per-submission quality score (docs/rules.md, "Quality score"): 100 minus score_error_weight points for
-- each live error rule and score_warning_weight points for each live warning rule that found something in
-- the submission (latest result per rule, so a re-evaluated SKIPPED rule counts), floored at 0. The weights
-- are FQ-004 parameters of the thresholds seed. Shadow rules never count.

with

submissions as (
    select * from {{ ref('stg_intake__submissions') }}
),

failed as (
    select submission_id, rule_id, finding_count
    from {{ ref('stg_quality__rule_results') }}
    where status = 'FAIL'
),

severity as (
    select distinct submission_id, rule_id, severity
    from {{ ref('stg_quality__findings') }}
    where not shadow
),

counts as (
    select
        failed.submission_id,
        count(*) filter (where severity.severity = 'error') as error_rules,
        count(*) filter (where severity.severity = 'warning') as warning_rules,
        coalesce(sum(failed.finding_count) filter (where severity.severity = 'error'), 0) as error_findings,
        coalesce(sum(failed.finding_count) filter (where severity.severity = 'warning'), 0) as warning_findings
    from failed
    inner join severity
        on failed.submission_id = severity.submission_id and failed.rule_id = severity.rule_id
    group by failed.submission_id
)

select
    submissions.submission_id,
    submissions.enterprise_id,
    submissions.ent_type,
    submissions.period,
    submissions.version,
    submissions.status,
    coalesce(counts.error_rules, 0) as error_rules,
    coalesce(counts.warning_rules, 0) as warning_rules,
    coalesce(counts.error_findings, 0) as error_findings,
    coalesce(counts.warning_findings, 0) as warning_findings,
    greatest(
        0,
        100
        - score_error_weight.value * coalesce(counts.error_rules, 0)
        - score_warning_weight.value * coalesce(counts.warning_rules, 0)
    ) as quality_score
from submissions
left join counts on submissions.submission_id = counts.submission_id
{{ join_threshold('score_error_weight', indicator='FQ-004', ent_type='submissions.ent_type', on_date='submissions.period_end') }}
{{ join_threshold(
    'score_warning_weight',
    indicator='FQ-004',
    ent_type='submissions.ent_type',
    on_date='submissions.period_end'
) }}
