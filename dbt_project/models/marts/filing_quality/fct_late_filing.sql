-- FQ-001 Late filing (all types, monthly), from fct_filing_timeliness:
--   days_late  calendar days (rounded up) by which the first version that was eventually accepted was
--              received after the due time; 0 when on time; while nothing is accepted after the due time,
--              the days elapsed so far (until close, then `missing` takes over). BREACH above
--              max_days_late. No row before the due time unless a version was already accepted.
--   missing    1 when no version was accepted by period close, else 0; only once the period has closed.
--              BREACH above max_missing.
{%- set indicator_id = 'FQ-001' %}

with

timeliness as (
    select * from {{ ref('fct_filing_timeliness') }}
),

days_late as (
    {%- set row_evidence %}
        coalesce(
            timeliness.first_accepted_submission_id || ' received '
            || {{ local_timestamp_text('timeliness.first_accepted_received_at') }},
            'no accepted version yet'
        ) || '; due ' || {{ local_timestamp_text('timeliness.due_at') }}
    {%- endset %}
    select
        {{ count_metric(indicator_id, 'days_late', 'timeliness.days_late', 'max_days_late',
                        evidence=row_evidence, enterprise_id='timeliness.enterprise_id',
                        period='timeliness.period') }}
    from timeliness
    {{ join_threshold('max_days_late', indicator=indicator_id, ent_type='timeliness.ent_type', on_date='timeliness.period_end') }}
    where timeliness.first_accepted_submission_id is not null
        or (timeliness.timeliness_status = 'pending' and timeliness.days_late > 0)
),

missing as (
    {%- set row_evidence %}
        case
            when timeliness.is_missing_at_close
                then 'no accepted version by close ' || {{ local_timestamp_text('timeliness.close_at') }}
                || '; ' || cast(timeliness.versions_received as {{ dbt.type_string() }}) || ' version(s) received'
            else timeliness.first_accepted_submission_id || ' accepted '
                || {{ local_timestamp_text('timeliness.first_accepted_at') }}
        end
    {%- endset %}
    select
        {{ count_metric(indicator_id, 'missing',
                        'case when timeliness.is_missing_at_close then 1 else 0 end', 'max_missing',
                        evidence=row_evidence, enterprise_id='timeliness.enterprise_id',
                        period='timeliness.period') }}
    from timeliness
    {{ join_threshold('max_missing', indicator=indicator_id, ent_type='timeliness.ent_type', on_date='timeliness.period_end') }}
    where timeliness.is_closed
),

unioned as (
    select * from days_late
    union all
    select * from missing
)

{{ indicator_rows('unioned') }}
