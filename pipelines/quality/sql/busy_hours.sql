-- GENERATED from the dbt macro call {{ busy_hours('__busy_hour_legs', '__busy_hour_periods') }} (dbt_project/macros) by
-- `python -m pipelines.quality.compiled_macros` (make docs); do not edit.
-- Placeholders, defined by the caller as CTEs: __busy_hour_legs, __busy_hour_periods.
select * from (
    with
    bh_hour_counts as (
        select
            enterprise_id,
            date_trunc('hour', booked) as slot_hour,
            sum(case when is_ok then 1 else 0 end) as ok_legs,
            sum(case when is_ok then 0 else 1 end) as failed_legs
        from __busy_hour_legs
        group by 1, 2
    ),
    bh_lookback_days as (
        select
            bh_periods.enterprise_id,
            bh_periods.period,
    (cast(bh_periods.period_end as timestamp) + cast(1 - days.generated_number as bigint) * interval 1 day) as day_start
        from __busy_hour_periods as bh_periods
        cross join (
    select
        generate_series as generated_number
    from generate_series(1, 366)
) as days
        where days.generated_number <= bh_periods.lookback_days
    ),
    bh_lookback_hours as (
        select
            bh_lookback_days.enterprise_id,
            bh_lookback_days.period,
    (bh_lookback_days.day_start + cast(hours.generated_number - 1 as bigint) * interval 1 hour) as slot_hour
        from bh_lookback_days
        cross join (
    select
        generate_series as generated_number
    from generate_series(1, 24)
) as hours
    ),
    bh_slot_medians as (
        select
            bh_lookback_hours.enterprise_id,
            bh_lookback_hours.period,
            extract(dow from bh_lookback_hours.slot_hour) as weekday,
            extract(hour from bh_lookback_hours.slot_hour) as hour_of_day,
            percentile_cont(0.5) within group (order by coalesce(bh_hour_counts.ok_legs, 0)) as median_legs,
            percentile_cont(0.5) within group (order by coalesce(bh_hour_counts.failed_legs, 0)) as median_failed
        from bh_lookback_hours
        left join bh_hour_counts
            on bh_lookback_hours.enterprise_id = bh_hour_counts.enterprise_id
            and bh_lookback_hours.slot_hour = bh_hour_counts.slot_hour
        group by 1, 2, 3, 4
    ),
    bh_busy_slots as (
        select bh_slot_medians.*
        from bh_slot_medians
        inner join __busy_hour_periods as bh_periods
            on bh_slot_medians.enterprise_id = bh_periods.enterprise_id
            and bh_slot_medians.period = bh_periods.period
        where (case bh_periods.min_legs_comparison
        when '<' then bh_slot_medians.median_legs < bh_periods.min_legs
        when '<=' then bh_slot_medians.median_legs <= bh_periods.min_legs
        when '>' then bh_slot_medians.median_legs > bh_periods.min_legs
        when '>=' then bh_slot_medians.median_legs >= bh_periods.min_legs
    end)
    ),
    bh_usual_days as (
        select
            enterprise_id,
            period,
            weekday,
            sum(median_legs) as usual_legs
        from bh_slot_medians
        group by 1, 2, 3
    ),
    bh_day_counts as (
        select
            enterprise_id,
            cast(booked as date) as day,
            sum(case when is_ok then 1 else 0 end) as ok_legs
        from __busy_hour_legs
        group by 1, 2
    ),
    -- the days of the periods that have busy slots (the others have no busy hour)
    bh_period_days as (
        select
            bh_periods.enterprise_id,
            bh_periods.period,
    (cast(bh_periods.period_start as timestamp) + cast(days.generated_number - 1 as bigint) * interval 1 day) as day_start
        from __busy_hour_periods as bh_periods
        cross join (
    select
        generate_series as generated_number
    from generate_series(1, 31)
) as days
        where
    (bh_periods.period_start + cast(days.generated_number - 1 as bigint) * interval 1 day) <= bh_periods.period_end
            and exists (
                select 1
                from bh_busy_slots
                where bh_busy_slots.enterprise_id = bh_periods.enterprise_id
                    and bh_busy_slots.period = bh_periods.period
            )
    )
    select
        bh_period_days.enterprise_id,
        bh_period_days.period,
    (bh_period_days.day_start + cast(bh_busy_slots.hour_of_day as bigint) * interval 1 hour) as slot_hour,
        bh_busy_slots.median_legs,
        bh_busy_slots.median_failed
    from bh_period_days
    inner join bh_busy_slots
        on bh_period_days.enterprise_id = bh_busy_slots.enterprise_id
        and bh_period_days.period = bh_busy_slots.period
        and extract(dow from bh_period_days.day_start) = bh_busy_slots.weekday
    inner join __busy_hour_periods as bh_periods
        on bh_period_days.enterprise_id = bh_periods.enterprise_id
        and bh_period_days.period = bh_periods.period
    inner join bh_usual_days
        on bh_period_days.enterprise_id = bh_usual_days.enterprise_id
        and bh_period_days.period = bh_usual_days.period
        and extract(dow from bh_period_days.day_start) = bh_usual_days.weekday
    left join bh_day_counts
        on bh_period_days.enterprise_id = bh_day_counts.enterprise_id
        and cast(bh_period_days.day_start as date) = bh_day_counts.day
    where (case bh_periods.min_day_share_comparison
        when '<' then coalesce(bh_day_counts.ok_legs, 0) < bh_periods.min_day_share * bh_usual_days.usual_legs
        when '<=' then coalesce(bh_day_counts.ok_legs, 0) <= bh_periods.min_day_share * bh_usual_days.usual_legs
        when '>' then coalesce(bh_day_counts.ok_legs, 0) > bh_periods.min_day_share * bh_usual_days.usual_legs
        when '>=' then coalesce(bh_day_counts.ok_legs, 0) >= bh_periods.min_day_share * bh_usual_days.usual_legs
    end)
) as busy_hours
