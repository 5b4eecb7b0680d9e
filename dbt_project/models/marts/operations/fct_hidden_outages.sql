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
{#- a generous bound for the series of lookback days below -#}
{%- set max_lookback_days = 366 %}

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

hour_counts as (
    select
        enterprise_id,
        {{ dbt.date_trunc('hour', 'booked') }} as slot_hour,
        count(*) as legs
    from legs
    group by 1, 2
),

lookback_days as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        {{ dbt.dateadd('day', '1 - days.generated_number', 'cast(enterprise_periods.period_end as timestamp)') }} as day_start
    from enterprise_periods
    cross join ({{ dbt.generate_series(max_lookback_days) }}) as days
    {{ join_threshold('busy_lookback_days', indicator=indicator_id, ent_type='enterprise_periods.ent_type', on_date='enterprise_periods.period_end') }}
    where days.generated_number <= busy_lookback_days.value
),

lookback_hours as (
    select
        lookback_days.enterprise_id,
        lookback_days.period,
        {{ dbt.dateadd('hour', 'hours.generated_number - 1', 'lookback_days.day_start') }} as slot_hour
    from lookback_days
    cross join ({{ dbt.generate_series(24) }}) as hours
),

slot_medians as (
    select
        lookback_hours.enterprise_id,
        lookback_hours.period,
        extract(dow from lookback_hours.slot_hour) as weekday,
        extract(hour from lookback_hours.slot_hour) as hour_of_day,
        percentile_cont(0.5) within group (order by coalesce(hour_counts.legs, 0)) as median_legs
    from lookback_hours
    left join hour_counts
        on lookback_hours.enterprise_id = hour_counts.enterprise_id
        and lookback_hours.slot_hour = hour_counts.slot_hour
    group by 1, 2, 3, 4
),

busy_slots as (
    select slot_medians.*
    from slot_medians
    inner join enterprise_periods
        on slot_medians.enterprise_id = enterprise_periods.enterprise_id
        and slot_medians.period = enterprise_periods.period
    {{ join_threshold('busy_slot_min_legs', indicator=indicator_id, ent_type='enterprise_periods.ent_type', on_date='enterprise_periods.period_end') }}
    where {{ compare('slot_medians.median_legs', 'busy_slot_min_legs') }}
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
    {{ join_threshold('min_gap_minutes', indicator=indicator_id, ent_type='enterprise_periods.ent_type', on_date='enterprise_periods.period_end') }}
    where {{ compare(minutes_between('ordered_legs.gap_start', 'ordered_legs.gap_end'), 'min_gap_minutes') }}
),

busy_periods as (
    select distinct enterprise_id, period from busy_slots
),

-- only enterprise-periods with busy slots can have a hidden outage: their gaps are few (nights)
busy_gaps as (
    select gaps.*
    from gaps
    inner join busy_periods
        on gaps.enterprise_id = busy_periods.enterprise_id
        and gaps.period = busy_periods.period
),

-- the legs of each day, and the weekday's usual day (the sum of its slot medians): a gap on a day far
-- quieter than usual (a P2P book's quiet month end) is a lull, not an outage; an outage leaves its day's
-- volume about as usual (what it blocked is booked after it)
day_counts as (
    select
        enterprise_id,
        cast(booked as date) as day,
        count(*) as legs
    from legs
    group by 1, 2
),

usual_days as (
    select
        enterprise_id,
        period,
        weekday,
        sum(median_legs) as usual_legs
    from slot_medians
    group by 1, 2, 3
),

period_days as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        {{ dbt.dateadd('day', 'days.generated_number - 1', 'cast(enterprise_periods.period_start as timestamp)') }} as day_start
    from enterprise_periods
    inner join busy_periods
        on enterprise_periods.enterprise_id = busy_periods.enterprise_id
        and enterprise_periods.period = busy_periods.period
    cross join ({{ dbt.generate_series(31) }}) as days
    where {{ dbt.dateadd('day', 'days.generated_number - 1', 'enterprise_periods.period_start') }} <= enterprise_periods.period_end
),

-- the period's concrete busy hours: the hours of ordinary days (legs >= min_day_share of the weekday's
-- usual day) whose (weekday, hour) slot is busy
busy_hours as (
    select
        period_days.enterprise_id,
        period_days.period,
        {{ dbt.dateadd('hour', 'busy_slots.hour_of_day', 'period_days.day_start') }} as slot_hour
    from period_days
    inner join busy_slots
        on period_days.enterprise_id = busy_slots.enterprise_id
        and period_days.period = busy_slots.period
        and extract(dow from period_days.day_start) = busy_slots.weekday
    inner join enterprise_periods
        on period_days.enterprise_id = enterprise_periods.enterprise_id
        and period_days.period = enterprise_periods.period
    inner join usual_days
        on period_days.enterprise_id = usual_days.enterprise_id
        and period_days.period = usual_days.period
        and extract(dow from period_days.day_start) = usual_days.weekday
    left join day_counts
        on period_days.enterprise_id = day_counts.enterprise_id
        and cast(period_days.day_start as date) = day_counts.day
    {{ join_threshold('min_day_share', indicator=indicator_id, ent_type='enterprise_periods.ent_type', on_date='enterprise_periods.period_end') }}
    where {{ compare('coalesce(day_counts.legs, 0)', 'min_day_share', 'min_day_share.value * usual_days.usual_legs') }}
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
        {{ dbt.listagg("strftime(gap_start, '%Y-%m-%d %H:%M') || ' to ' || strftime(gap_end, '%H:%M') || ' (' || " ~ num_text('busy_minutes', 0) ~ " || ' busy min)'", "', '", "order by gap_start", 10) }}
            as gaps
    from hidden
    group by 1, 2
),

scored as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        '{{ indicator_id }}' as indicator_id,
        'hidden_outages' as metric,
        cast(null as date) as as_of_date,
        cast(null as {{ dbt.type_string() }}) as dimension,
        cast(null as {{ dbt.type_string() }}) as dimension_value,
        cast(coalesce(counts.hidden_outages, 0) as {{ type_double() }}) as value,
        coalesce(counts.hidden_outages, 0) as numerator,
        1 as denominator,
        max_hidden_outages.value as threshold,
        {{ threshold_status('coalesce(counts.hidden_outages, 0)', 'max_hidden_outages') }} as status,
        cast(coalesce(counts.hidden_outages, 0) as {{ dbt.type_string() }})
        || ' gap(s) without ok customer legs in busy hours and no incident' || coalesce(': ' || counts.gaps, '') as evidence
    from enterprise_periods
    left join counts
        on enterprise_periods.enterprise_id = counts.enterprise_id
        and enterprise_periods.period = counts.period
    {{ join_threshold('max_hidden_outages', indicator=indicator_id, ent_type='enterprise_periods.ent_type', on_date='enterprise_periods.period_end') }}
)

{{ indicator_rows('scored') }}
