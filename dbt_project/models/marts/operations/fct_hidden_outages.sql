-- OPS-003 Hidden outage (all types, monthly), Shanghai wall-clock time, set-based:
-- 1. busy slots: the (weekday, hour) slots whose median number of ok customer legs over the last
--    busy_lookback_days days of the period (days without legs count as 0) is >= busy_slot_min_legs;
-- 2. gaps: the time between consecutive ok customer legs of the enterprise (across periods), at least
--    min_gap_minutes long, assigned to the period of their start;
-- 3. a hidden outage is a gap with at least min_gap_minutes inside the busy slots of ordinary days (whose
--    legs reach min_day_share of the weekday's usual day, the sum of its slot medians) that no incident
--    of the enterprise (any type, started_at to ended_at or still open) overlaps.
-- hidden_outages: their number (denominator 1); WARN above max_hidden_outages. Evidence lists them.
{%- set indicator_id = 'OPS-003' %}

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

legs as (
    select
        enterprise_id,
        {{ local_timestamp('booked_at') }} as booked
    from {{ ref('int_customer_legs_classified') }}
),

incidents as (
    select
        incidents.enterprise_id,
        incidents.incident_id,
        {{ local_timestamp('incidents.started_at') }} as started,
        {{ local_timestamp('incidents.ended_at') }} as ended
    from {{ ref('stg_filings__incidents') }} as incidents
),

-- the period's thresholds of the busy-hour definition (macro busy_hours, shared with rule M007)
busy_hour_periods as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.period_start,
        enterprise_periods.period_end,
        busy_lookback_days.value as lookback_days,
        busy_slot_min_legs.value as min_legs,
        busy_slot_min_legs.comparison as min_legs_comparison,
        min_day_share.value as min_day_share,
        min_day_share.comparison as min_day_share_comparison
    from enterprise_periods
    {{ join_threshold(
        'busy_lookback_days',
        indicator=indicator_id,
        ent_type='enterprise_periods.ent_type',
        on_date='enterprise_periods.period_end'
    ) }}
    {{ join_threshold(
        'busy_slot_min_legs',
        indicator=indicator_id,
        ent_type='enterprise_periods.ent_type',
        on_date='enterprise_periods.period_end'
    ) }}
    {{ join_threshold(
        'min_day_share',
        indicator=indicator_id,
        ent_type='enterprise_periods.ent_type',
        on_date='enterprise_periods.period_end'
    ) }}
),

busy_hour_legs as (
    select enterprise_id, booked, true as is_ok from legs
),

-- the period's concrete busy hours: the busy (weekday, hour) slots on ordinary days
busy_hours as (
    {{ busy_hours('busy_hour_legs', 'busy_hour_periods') }}
),

ordered_legs as (
    select
        enterprise_id,
        lag(booked) over (partition by enterprise_id order by booked) as gap_start,
        booked as gap_end
    from legs
),

gaps as (
    select
        ordered_legs.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.ent_type,
        enterprise_periods.period_end,
        ordered_legs.gap_start,
        ordered_legs.gap_end,
        min_gap_minutes.value as min_gap_minutes,
        min_gap_minutes.comparison as min_gap_comparison
    from ordered_legs
    inner join enterprise_periods
        on ordered_legs.enterprise_id = enterprise_periods.enterprise_id
        and cast(ordered_legs.gap_start as date) between enterprise_periods.period_start and enterprise_periods.period_end
    {{ join_threshold(
        'min_gap_minutes',
        indicator=indicator_id,
        ent_type='enterprise_periods.ent_type',
        on_date='enterprise_periods.period_end'
    ) }}
    where {{ compare(minutes_between('ordered_legs.gap_start', 'ordered_legs.gap_end'), 'min_gap_minutes') }}
),

busy_periods as (
    select distinct enterprise_id, period from busy_hours
),

-- only enterprise-periods with busy slots can have a hidden outage: their gaps are few (nights)
busy_gaps as (
    select gaps.*
    from gaps
    inner join busy_periods
        on gaps.enterprise_id = busy_periods.enterprise_id
        and gaps.period = busy_periods.period
),

gap_busy_minutes as (
    select
        busy_gaps.enterprise_id,
        busy_gaps.period,
        busy_gaps.gap_start,
        busy_gaps.gap_end,
        max(busy_gaps.min_gap_minutes) as min_gap_minutes,
        max(busy_gaps.min_gap_comparison) as min_gap_comparison,
        sum({{ minutes_between(
            'greatest(busy_gaps.gap_start, busy_hours.slot_hour)',
            'least(busy_gaps.gap_end, ' ~ dbt.dateadd('hour', 1, 'busy_hours.slot_hour') ~ ')') }}) as busy_minutes
    from busy_gaps
    inner join busy_hours
        on busy_gaps.enterprise_id = busy_hours.enterprise_id
        and busy_gaps.period = busy_hours.period
        and busy_hours.slot_hour < busy_gaps.gap_end
        and {{ dbt.dateadd('hour', 1, 'busy_hours.slot_hour') }} > busy_gaps.gap_start
    group by 1, 2, 3, 4
),

hidden as (
    select gap_busy_minutes.*
    from gap_busy_minutes
    where {{ compare_with('busy_minutes', 'min_gap_comparison', 'min_gap_minutes') }}
        and not exists (
            select 1
            from incidents
            where incidents.enterprise_id = gap_busy_minutes.enterprise_id
                and incidents.started < gap_busy_minutes.gap_end
                and (incidents.ended is null or incidents.ended > gap_busy_minutes.gap_start)
        )
),

counts as (
    select
        enterprise_id,
        period,
        count(*) as hidden_outages,
        {{ dbt.listagg(
            format_date('gap_start', '%Y-%m-%d %H:%M', 'yyyy-MM-dd HH:mm') ~ " || ' to ' || "
              ~ format_date('gap_end', '%H:%M', 'HH:mm') ~ " || ' (' || "
              ~ num_text('busy_minutes', 0)
              ~ " || ' busy min)'",
            "', '",
            "order by gap_start",
            10
        ) }}
            as gaps
    from hidden
    group by 1, 2
),

scored as (
    {%- set row_value %}
        cast(coalesce(counts.hidden_outages, 0) as {{ type_double() }})
    {%- endset %}
    {%- set row_evidence %}
        cast(coalesce(counts.hidden_outages, 0) as {{ dbt.type_string() }})
        || ' gap(s) without ok customer legs in busy hours and no incident' || coalesce(': ' || counts.gaps, '')
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'hidden_outages', value=row_value,
                         numerator='coalesce(counts.hidden_outages, 0)', denominator='1',
                         status=threshold_status('coalesce(counts.hidden_outages, 0)', 'max_hidden_outages'),
                         threshold='max_hidden_outages.value', evidence=row_evidence,
                         enterprise_id='enterprise_periods.enterprise_id', period='enterprise_periods.period') }}
    from enterprise_periods
    left join counts
        on enterprise_periods.enterprise_id = counts.enterprise_id
        and enterprise_periods.period = counts.period
    {{ join_threshold(
        'max_hidden_outages',
        indicator=indicator_id,
        ent_type='enterprise_periods.ent_type',
        on_date='enterprise_periods.period_end'
    ) }}
)

{{ indicator_rows('scored') }}
