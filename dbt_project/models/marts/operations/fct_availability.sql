-- OPS-001 Availability (all types, monthly): 1 - minutes in the union of unplanned outage intervals
-- (incident_type outage, planned false; started_at to ended_at, or to the period end while ongoing),
-- clipped to the period (Shanghai month), / minutes in the period; WARN below min_availability.
-- longest_outage_minutes: the longest such outage (unclipped); BREACH above max_outage_minutes
-- (a reportable major incident). Evidence names the outages.
{%- set indicator_id = 'OPS-001' %}

with

enterprise_periods as (
    select
        *,
        cast(period_start as timestamp) as period_from,
        {{ dbt.dateadd('day', 1, 'cast(period_end as timestamp)') }} as period_to
    from {{ ref('int_enterprise_periods') }}
),

incidents as (
    select * from {{ ref('stg_filings__incidents') }}
    where incident_type = 'outage'
        and not planned
),

outages as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        incidents.incident_id,
        {{ local_timestamp('incidents.started_at') }} as started,
        coalesce({{ local_timestamp('incidents.ended_at') }}, enterprise_periods.period_to) as ended,
        enterprise_periods.period_from,
        enterprise_periods.period_to
    from enterprise_periods
    inner join incidents
        on enterprise_periods.submission_id = incidents.submission_id
),

clipped as (
    select
        enterprise_id,
        period,
        greatest(started, period_from) as started,
        least(ended, period_to) as ended
    from outages
    where started < period_to
        and ended > period_from
),

islands as (
    select
        *,
        sum(case when started > previous_end then 1 else 0 end) over (
            partition by enterprise_id, period order by started, ended rows unbounded preceding
        ) as island
    from (
        select
            clipped.*,
            coalesce(max(clipped.ended) over (
                partition by clipped.enterprise_id, clipped.period order by clipped.started, clipped.ended
                rows between unbounded preceding and 1 preceding
            ), clipped.started) as previous_end
        from clipped
    ) as ordered
),

downtime as (
    select
        enterprise_id,
        period,
        sum(minutes) as minutes
    from (
        select enterprise_id, period, island, {{ minutes_between('min(started)', 'max(ended)') }} as minutes
        from islands
        group by 1, 2, 3
    ) as merged
    group by 1, 2
),

longest as (
    select
        enterprise_id,
        period,
        max({{ minutes_between('started', 'ended') }}) as minutes,
        {{ dbt.listagg(
            "incident_id || ' ' || " ~ num_text(minutes_between('started', 'ended'), 0) ~ " || ' min'",
            "', '",
            "order by started",
            10
        ) }}
            as outages
    from outages
    group by 1, 2
),

measures as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.ent_type,
        enterprise_periods.period_end,
        {{ minutes_between('enterprise_periods.period_from', 'enterprise_periods.period_to') }} as period_minutes,
        coalesce(downtime.minutes, 0) as downtime_minutes,
        coalesce(longest.minutes, 0) as longest_minutes,
        longest.outages
    from enterprise_periods
    left join downtime
        on enterprise_periods.enterprise_id = downtime.enterprise_id
        and enterprise_periods.period = downtime.period
    left join longest
        on enterprise_periods.enterprise_id = longest.enterprise_id
        and enterprise_periods.period = longest.period
),

unioned as (
    {%- set row_evidence %}
        {{ num_text('measures.downtime_minutes', 1) }} || ' minute(s) of unplanned outage'
        || coalesce(': ' || measures.outages, '')
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'availability',
                         value='1 - measures.downtime_minutes / measures.period_minutes',
                         numerator='measures.period_minutes - measures.downtime_minutes',
                         denominator='measures.period_minutes',
                         status=threshold_status('1 - measures.downtime_minutes / measures.period_minutes', 'min_availability'),
                         threshold='min_availability.value', evidence=row_evidence,
                         enterprise_id='measures.enterprise_id', period='measures.period') }}
    from measures
    {{ join_threshold('min_availability', indicator=indicator_id, ent_type='measures.ent_type', on_date='measures.period_end') }}
    union all
    select
        measures.enterprise_id,
        measures.period,
        '{{ indicator_id }}',
        'longest_outage_minutes',
        cast(null as date),
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        measures.longest_minutes as value,
        measures.longest_minutes as numerator,
        1 as denominator,
        max_outage_minutes.value as threshold,
        {{ threshold_status('measures.longest_minutes', 'max_outage_minutes') }},
        coalesce('unplanned outages: ' || measures.outages, 'no unplanned outage')
    from measures
    {{ join_threshold(
        'max_outage_minutes',
        indicator=indicator_id,
        ent_type='measures.ent_type',
        on_date='measures.period_end'
    ) }}
)

{{ indicator_rows('unioned') }}
