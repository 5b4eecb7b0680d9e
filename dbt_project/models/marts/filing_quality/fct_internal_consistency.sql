-- FQ-004 Internal consistency (indicators.md), per enterprise x period, from the findings of the catalog
-- rules that implement an X-rule and feed FQ-004 (rule_catalog.fq_id; X-16 drift feeds FQ-002), latest
-- result per version and rule:
--   findings        over all versions received; WARN above max_findings.
--   current_errors  error-severity ones in the current version (an M error found after acceptance, when
--                   a SKIPPED rule was re-evaluated); BREACH above max_current_errors.
{%- set indicator_id = 'FQ-004' %}

with

submissions as (
    select * from {{ ref('stg_intake__submissions') }}
),

results as (
    select * from {{ ref('stg_quality__rule_results') }}
),

rules as (
    select rule_id, severity from {{ ref('rule_catalog') }}
    where fq_id = '{{ indicator_id }}' and not shadow
),

x_results as (
    select results.submission_id, results.rule_id, results.finding_count, rules.severity
    from results
    inner join rules on results.rule_id = rules.rule_id
),

counts as (
    select
        submissions.enterprise_id,
        submissions.ent_type,
        submissions.period,
        max(submissions.period_end) as period_end,
        count(distinct submissions.submission_id) as versions,
        coalesce(sum(results.finding_count), 0) as findings,
        coalesce(sum(results.finding_count) filter (
            where submissions.is_current and results.severity = 'error'
        ), 0) as current_errors,
        max(submissions.submission_id) filter (where submissions.is_current) as current_submission_id,
        string_agg(distinct results.rule_id, ', ' order by results.rule_id)
            filter (where results.finding_count > 0) as failed_rules
    from submissions
    left join x_results as results on submissions.submission_id = results.submission_id
    group by submissions.enterprise_id, submissions.ent_type, submissions.period
),

all_versions as (
    select
        counts.enterprise_id,
        counts.period,
        '{{ indicator_id }}' as indicator_id,
        'findings' as metric,
        cast(null as date) as as_of_date,
        cast(null as {{ dbt.type_string() }}) as dimension,
        cast(null as {{ dbt.type_string() }}) as dimension_value,
        counts.findings as value,
        counts.findings as numerator,
        counts.versions as denominator,
        max_findings.value as threshold,
        {{ threshold_status('counts.findings', 'max_findings') }} as status,
        coalesce('rules ' || counts.failed_rules, 'no X-rule finding') || ' over '
        || cast(counts.versions as {{ dbt.type_string() }}) || ' version(s)' as evidence
    from counts
    {{ join_threshold('max_findings', indicator=indicator_id, ent_type='counts.ent_type', on_date='counts.period_end') }}
),

current_version as (
    select
        counts.enterprise_id,
        counts.period,
        '{{ indicator_id }}' as indicator_id,
        'current_errors' as metric,
        cast(null as date) as as_of_date,
        cast(null as {{ dbt.type_string() }}) as dimension,
        cast(null as {{ dbt.type_string() }}) as dimension_value,
        counts.current_errors as value,
        counts.current_errors as numerator,
        1 as denominator,
        max_current_errors.value as threshold,
        {{ threshold_status('counts.current_errors', 'max_current_errors') }} as status,
        counts.current_submission_id as evidence
    from counts
    {{ join_threshold('max_current_errors', indicator=indicator_id, ent_type='counts.ent_type', on_date='counts.period_end') }}
    where counts.current_submission_id is not null
),

unioned as (
    select * from all_versions
    union all
    select * from current_version
)

{{ indicator_rows('unioned') }}
