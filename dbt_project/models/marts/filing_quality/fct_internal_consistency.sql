-- FQ-004 Internal consistency (indicators.md), per enterprise x period, from the findings of the catalog
-- rules that implement an X-rule and feed FQ-004 (rule_catalog.fq_id; X-16 drift feeds FQ-002), latest
-- result per version and rule:
--   findings        over all versions received; WARN above max_findings.
--   current_errors  error-severity ones in the current version (an M error found after acceptance, when
--                   a SKIPPED rule was re-evaluated); BREACH above max_current_errors.
{%- set indicator_id = 'FQ-004' %}

with

counts as (
    {{ fq_rule_finding_counts(indicator_id) }}
),

all_versions as (
    {{ fq_findings_row(indicator_id, 'no X-rule finding') }}
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
