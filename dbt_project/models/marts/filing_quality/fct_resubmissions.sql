-- FQ-002 Resubmissions (indicators.md), per enterprise x period from the submission lifecycle:
--   resubmissions             versions received - 1; WARN at max_resubmissions or more.
--   max_control_total_change  the largest |new - old| / max(|old|, 1.00) of a manifest control total
--                             between consecutive versions that were accepted; WARN above
--                             max_control_total_change (the per-version finding is rule M008, X-16).
{%- set indicator_id = 'FQ-002' %}

with

submissions as (
    select * from {{ ref('stg_intake__submissions') }}
),

events as (
    select * from {{ ref('stg_intake__submission_events') }}
),

files as (
    select submission_id, filing_type, control_totals, {{ json_object_keys_rows('control_totals') }} as total
    from {{ source('intake', 'files') }}
    where control_totals is not null
),

periods as (
    select enterprise_id, ent_type, period, max(period_end) as period_end, count(*) as versions
    from submissions
    group by enterprise_id, ent_type, period
),

accepted as (
    select submissions.*
    from submissions
    where exists (
        select 1 from events
        where events.submission_id = submissions.submission_id
            and events.status in ('ACCEPTED', 'ACCEPTED_WITH_WARNINGS')
    )
),

totals as (
    select
        accepted.enterprise_id,
        accepted.period,
        accepted.version,
        accepted.submission_id,
        files.filing_type || '.' || files.total as total,
        cast({{ json_text('files.control_totals', 'files.total') }} as {{ type_double() }}) as value
    from accepted
    inner join files on accepted.submission_id = files.submission_id
),

changes as (
    select
        *,
        abs(value - lag(value) over w) / greatest(abs(lag(value) over w), 1.00) as change
    from totals
    window w as (partition by enterprise_id, period, total order by version)
),

largest as (
    select
        enterprise_id,
        period,
        max(change) as change,
        {{ arg_max("total || ' in ' || submission_id", ['change', "total || ' in ' || submission_id"]) }} as what
    from changes
    where change is not null
    group by enterprise_id, period
),

resubmissions as (
    {%- set row_evidence %}
        cast(periods.versions as {{ dbt.type_string() }}) || ' version(s) received'
    {%- endset %}
    select
        {{ count_metric(indicator_id, 'resubmissions', 'periods.versions - 1', 'max_resubmissions',
                        evidence=row_evidence, enterprise_id='periods.enterprise_id', period='periods.period') }}
    from periods
    {{ join_threshold('max_resubmissions', indicator=indicator_id, ent_type='periods.ent_type', on_date='periods.period_end') }}
),

drift as (
    select
        {{ count_metric(indicator_id, 'max_control_total_change', 'largest.change',
                        'max_control_total_change', evidence='largest.what',
                        enterprise_id='periods.enterprise_id', period='periods.period') }}
    from periods
    inner join largest on periods.enterprise_id = largest.enterprise_id and periods.period = largest.period
    {{ join_threshold(
        'max_control_total_change',
        indicator=indicator_id,
        ent_type='periods.ent_type',
        on_date='periods.period_end'
    ) }}
),

unioned as (
    select * from resubmissions
    union all
    select * from drift
)

{{ indicator_rows('unioned') }}
