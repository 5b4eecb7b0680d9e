-- FQ-005 Benford deviation (indicators.md), per enterprise x period, read from rule Q001 on the current
-- version (not re-implemented): the mean absolute deviation of first-digit shares of the ok customer legs'
-- amounts when Q001 flagged it (its finding carries the MAD), WARN; OK when Q001 passed (also when there
-- were fewer than min_amounts amounts to test).
{%- set indicator_id = 'FQ-005' %}

with

current_submissions as (
    select * from {{ ref('stg_intake__submissions') }}
    where is_current
),

results as (
    select * from {{ ref('stg_quality__rule_results') }}
    where rule_id = 'Q001'
),

findings as (
    select
        quality_findings.submission_id,
        cast(
            {{ finding_field('quality_findings.fields', 'mad') }} as {{ type_double() }}
        ) as mad,
        quality_findings.message
    from {{ ref('stg_quality__findings') }} as quality_findings
    where quality_findings.rule_id = 'Q001'
    qualify row_number() over (
        partition by quality_findings.submission_id
        order by quality_findings.attempt desc, quality_findings.finding_id desc
    ) = 1
),

scored as (
    {%- set row_status %}
        case when results.status = 'FAIL' then {{ threshold_status('findings.mad', 'max_mad') }} else 'OK' end
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'first_digit_mad', value='findings.mad', numerator='findings.mad',
                         denominator='1', status=row_status, threshold='max_mad.value',
                         evidence="coalesce(findings.message, current_submissions.submission_id || ': Q001 passed')",
                         enterprise_id='current_submissions.enterprise_id',
                         period='current_submissions.period') }}
    from current_submissions
    inner join results on current_submissions.submission_id = results.submission_id
    left join findings on current_submissions.submission_id = findings.submission_id
    {{ join_threshold(
        'max_mad',
        indicator=indicator_id,
        ent_type='current_submissions.ent_type',
        on_date='current_submissions.period_end'
    ) }}
)

{{ indicator_rows('scored') }}
