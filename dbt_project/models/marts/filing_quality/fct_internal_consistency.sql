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
        {{ count_metric(indicator_id, 'current_errors', 'counts.current_errors', 'max_current_errors',
                        evidence='counts.current_submission_id', enterprise_id='counts.enterprise_id',
                        period='counts.period') }}
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
