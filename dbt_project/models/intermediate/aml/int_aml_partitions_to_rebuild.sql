-- The partitions the incremental AML window screens rebuild in this run (AML-003 pass-through, AML-004
-- fan-in/out, AML-006 dormant reactivation; macros/incremental.sql): a window of up to `margin_days`
-- (the longest window_days / window_hours those screens' thresholds hold, rounded up, plus a day) opened
-- by a leg of an earlier partition can reach a changed leg, so each enterprise of int_partitions_to_rebuild
-- rebuilds every partition ending on or after its first rebuilt period's first day minus the margin.
-- `input_from_day`: the screens read the enterprise's party legs booked from that day on (the earliest
-- booking day of the partitions' legs minus the margin: every leg a window of theirs can hold).
-- A view, like int_partitions_to_rebuild: empty after every complete build.
{{ config(materialized='view') }}

with

margin as (
    select
        cast(ceil(max(
            case
                when param = 'window_days' then value
                when param = 'window_hours' then value / 24
            end
        )) as integer) + 1 as margin_days
    from {{ ref('thresholds') }}
    where indicator_id in ('AML-003', 'AML-004', 'AML-006')
),

rebuilt as (
    select
        enterprise_id,
        period,
        {{ period_start('period') }} as period_start,
        {{ period_end('period') }} as period_end
    from {{ ref('int_partitions_to_rebuild') }}
),

first_rebuilt as (
    select
        enterprise_id,
        min(period_start) as first_day
    from rebuilt
    group by enterprise_id
),

partitions as (
    select
        enterprise_id,
        period,
        period_start,
        period_end
    from {{ ref('stg_intake__submissions') }}
    where is_current
    union
    select
        enterprise_id,
        period,
        period_start,
        period_end
    from rebuilt
),

selected as (
    select
        partitions.enterprise_id,
        partitions.period,
        partitions.period_start
    from partitions
    inner join first_rebuilt
        on partitions.enterprise_id = first_rebuilt.enterprise_id
    cross join margin
    where partitions.period_end >= {{ add_days('first_rebuilt.first_day', '-margin.margin_days') }}
),

first_leg as (
    select
        party_legs.enterprise_id,
        min(party_legs.booked_date_sh) as first_day
    from {{ ref('int_aml_party_legs') }} as party_legs
    inner join selected
        on party_legs.enterprise_id = selected.enterprise_id
        and party_legs.period = selected.period
    group by party_legs.enterprise_id
),

first_day as (
    select
        selected.enterprise_id,
        least(min(selected.period_start), min(first_leg.first_day)) as first_day
    from selected
    left join first_leg
        on selected.enterprise_id = first_leg.enterprise_id
    group by selected.enterprise_id
),

final as (
    select
        selected.enterprise_id,
        selected.period,
        cast({{ add_days('first_day.first_day', '-margin.margin_days') }} as date) as input_from_day
    from selected
    inner join first_day
        on selected.enterprise_id = first_day.enterprise_id
    cross join margin
)

select * from final
