-- FQ-006 Sudden jump (indicators.md), per enterprise x period, read from rule M009 on the current version
-- (not re-implemented): `jumps` = control totals whose robust z against the enterprise's last 12 periods
-- passed the screen (M009 findings), WARN above max_jumps; INSUFFICIENT_HISTORY while M009 is SKIPPED
-- (fewer than min_history earlier periods); one `robust_z` row per flagged total, WARN.
{%- set indicator_id = 'FQ-006' %}

with

current_submissions as (
    select * from {{ ref('stg_intake__submissions') }}
    where is_current
),

results as (
    select * from {{ ref('stg_quality__rule_results') }}
    where rule_id = 'M009'
),

findings as (
    select
        quality_findings.submission_id,
        quality_findings.record_key,
        cast(
            {{ finding_field('quality_findings.fields', 'robust_z') }} as {{ type_double() }}
        ) as robust_z,
        quality_findings.message
    from {{ ref('stg_quality__findings') }} as quality_findings
    where quality_findings.rule_id = 'M009'
),

jumps as (
    {%- set row_status %}
        case
            when results.status = 'SKIPPED' then 'INSUFFICIENT_HISTORY'
            else {{ threshold_status('results.finding_count', 'max_jumps') }}
        end
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'jumps',
                         value="case when results.status <> 'SKIPPED' then results.finding_count end",
                         numerator="case when results.status <> 'SKIPPED' then results.finding_count end",
                         denominator='1', status=row_status, threshold='max_jumps.value',
                         evidence='current_submissions.submission_id',
                         enterprise_id='current_submissions.enterprise_id',
                         period='current_submissions.period') }}
    from current_submissions
    inner join results on current_submissions.submission_id = results.submission_id
    {{ join_threshold(
        'max_jumps',
        indicator=indicator_id,
        ent_type='current_submissions.ent_type',
        on_date='current_submissions.period_end'
    ) }}
),

totals as (
    select
        {{ indicator_row(indicator_id, 'robust_z', value='findings.robust_z', numerator='findings.robust_z',
                         denominator='1', status='history_robust_z.severity',
                         threshold='history_robust_z.value', evidence='findings.message',
                         dimension="'control_total'", dimension_value='findings.record_key',
                         enterprise_id='current_submissions.enterprise_id',
                         period='current_submissions.period') }}
    from current_submissions
    inner join findings on current_submissions.submission_id = findings.submission_id
    {{ join_threshold(
        'history_robust_z',
        indicator=indicator_id,
        ent_type='current_submissions.ent_type',
        on_date='current_submissions.period_end'
    ) }}
),

unioned as (
    select * from jumps
    union all
    select * from totals
)

{{ indicator_rows('unioned') }}
