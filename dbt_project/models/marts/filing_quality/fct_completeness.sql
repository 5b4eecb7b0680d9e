-- FQ-003 Completeness (indicators.md): over all versions received for the enterprise x period, the true
-- number of findings of the catalog rules that feed FQ-003 (rule_catalog.fq_id: null required fields,
-- missing expected rows, ...), latest result per version and rule. BREACH above max_findings.
{%- set indicator_id = 'FQ-003' %}

with

submissions as (
    select * from {{ ref('stg_intake__submissions') }}
),

results as (
    select * from {{ ref('stg_quality__rule_results') }}
),

rules as (
    select rule_id from {{ ref('rule_catalog') }}
    where fq_id = '{{ indicator_id }}' and not shadow
),

counts as (
    select
        submissions.enterprise_id,
        submissions.ent_type,
        submissions.period,
        max(submissions.period_end) as period_end,
        count(distinct submissions.submission_id) as versions,
        coalesce(sum(results.finding_count), 0) as findings,
        string_agg(distinct results.rule_id, ', ' order by results.rule_id)
            filter (where results.finding_count > 0) as failed_rules
    from submissions
    left join results
        on submissions.submission_id = results.submission_id
        and results.rule_id in (select rule_id from rules)
    group by submissions.enterprise_id, submissions.ent_type, submissions.period
),

scored as (
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
        coalesce('rules ' || counts.failed_rules, 'no completeness finding') || ' over '
        || cast(counts.versions as {{ dbt.type_string() }}) || ' version(s)' as evidence
    from counts
    {{ join_threshold('max_findings', indicator=indicator_id, ent_type='counts.ent_type', on_date='counts.period_end') }}
)

{{ indicator_rows('scored') }}
