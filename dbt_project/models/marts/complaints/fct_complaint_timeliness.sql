-- CPL-002 Complaint timeliness (all types, monthly), Shanghai calendar days.
-- closed_within_deadline_rate: complaints closed in the period within response_days of receipt
-- (closed date - received date <= response_days; extensions do not count) / complaints closed in the
-- period; WARN below min_timely_rate, NOT_APPLICABLE when none closed.
-- open_over_max_days: complaints open at period end (closed_at null or after it) received more than
-- max_open_days before the period's last day; BREACH above max_open_complaints. Evidence names them.
{%- set indicator_id = 'CPL-002' %}

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

complaints as (
    select * from {{ ref('stg_filings__complaints') }}
),

scoped as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.ent_type,
        enterprise_periods.period_start,
        enterprise_periods.period_end,
        complaints.complaint_id,
        complaints.received_date_sh,
        complaints.closed_date_sh
    from enterprise_periods
    inner join complaints
        on enterprise_periods.enterprise_id = complaints.enterprise_id
        and enterprise_periods.period = complaints.period
),

flagged as (
    select
        scoped.*,
        scoped.closed_date_sh between scoped.period_start and scoped.period_end as closed_in_period,
        {{ dbt.datediff(
            'scoped.received_date_sh',
            'scoped.closed_date_sh',
            'day'
        ) }} <= response_days.value
            as closed_in_time,
        (scoped.closed_date_sh is null or scoped.closed_date_sh > scoped.period_end)
            and {{ compare(dbt.datediff('scoped.received_date_sh', 'scoped.period_end', 'day'), 'max_open_days') }}
            as open_too_long
    from scoped
    {{ join_threshold('response_days', indicator=indicator_id, ent_type='scoped.ent_type', on_date='scoped.period_end') }}
    {{ join_threshold('max_open_days', indicator=indicator_id, ent_type='scoped.ent_type', on_date='scoped.period_end') }}
),

counts as (
    select
        enterprise_id,
        period,
        sum(case when closed_in_period then 1 else 0 end) as closed,
        sum(case when closed_in_period and closed_in_time then 1 else 0 end) as closed_in_time,
        sum(case when open_too_long then 1 else 0 end) as open_too_long,
        {{ dbt.listagg(
            "case when open_too_long then complaint_id || ' received ' || cast(received_date_sh as "
              ~ dbt.type_string()
              ~ ") end",
            "', '",
            "order by complaint_id"
        ) }}
            as open_too_long_ids
    from flagged
    group by 1, 2
),

measures as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.ent_type,
        enterprise_periods.period_end,
        coalesce(counts.closed, 0) as closed,
        coalesce(counts.closed_in_time, 0) as closed_in_time,
        coalesce(counts.open_too_long, 0) as open_too_long,
        counts.open_too_long_ids
    from enterprise_periods
    left join counts
        on enterprise_periods.enterprise_id = counts.enterprise_id
        and enterprise_periods.period = counts.period
),

timely_rate as (
    {%- set row_value %}
        cast(measures.closed_in_time as {{ type_double() }}) / nullif(measures.closed, 0)
    {%- endset %}
    {%- set row_status %}
        case
            when measures.closed = 0 then 'NOT_APPLICABLE'
            else {{ threshold_status('cast(measures.closed_in_time as ' ~ type_double() ~ ') / measures.closed', 'min_timely_rate') }}
        end
    {%- endset %}
    {%- set row_evidence %}
        cast(measures.closed_in_time as {{ dbt.type_string() }}) || ' of ' || cast(measures.closed as {{ dbt.type_string() }})
        || ' complaint(s) closed in the period within ' || {{ num_text('response_days.value', 0) }} || ' day(s)'
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'closed_within_deadline_rate', value=row_value,
                         numerator='measures.closed_in_time', denominator='measures.closed',
                         status=row_status, threshold='min_timely_rate.value', evidence=row_evidence,
                         enterprise_id='measures.enterprise_id', period='measures.period') }}
    from measures
    {{ join_threshold('min_timely_rate', indicator=indicator_id, ent_type='measures.ent_type', on_date='measures.period_end') }}
    {{ join_threshold('response_days', indicator=indicator_id, ent_type='measures.ent_type', on_date='measures.period_end') }}
),

open_too_long as (
    {%- set row_value %}
        cast(measures.open_too_long as {{ type_double() }})
    {%- endset %}
    {%- set row_evidence %}
        cast(measures.open_too_long as {{ dbt.type_string() }}) || ' complaint(s) open at period end, received more than '
        || {{ num_text('max_open_days.value', 0) }} || ' day(s) before it'
        || coalesce(': ' || measures.open_too_long_ids, '')
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'open_over_max_days', value=row_value,
                         numerator='measures.open_too_long', denominator='1',
                         status=threshold_status('measures.open_too_long', 'max_open_complaints'),
                         threshold='max_open_complaints.value', evidence=row_evidence,
                         enterprise_id='measures.enterprise_id', period='measures.period') }}
    from measures
    {{ join_threshold(
        'max_open_complaints',
        indicator=indicator_id,
        ent_type='measures.ent_type',
        on_date='measures.period_end'
    ) }}
    {{ join_threshold('max_open_days', indicator=indicator_id, ent_type='measures.ent_type', on_date='measures.period_end') }}
),

unioned as (
    select * from timely_rate
    union all
    select * from open_too_long
)

{{ indicator_rows('unioned') }}
