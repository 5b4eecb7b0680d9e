-- LIQ-002 Redemption pressure (WM, daily, from the liquidity filing): net_redemptions / aum. WARN above
-- max_daily_share. Rolled up to the month (worst day, average). (The catalog's own-history z > 3 screen
-- on daily values is not implemented yet.)
{%- set indicator_id = 'LIQ-002' %}

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

liquidity as (
    select * from {{ ref('stg_filings__liquidity') }}
),

daily_scored as (
    select
        liquidity.enterprise_id,
        liquidity.period,
        '{{ indicator_id }}' as indicator_id,
        'net_redemption_share' as metric,
        liquidity.as_of_date,
        cast(null as {{ dbt.type_string() }}) as dimension,
        cast(null as {{ dbt.type_string() }}) as dimension_value,
        cast(liquidity.net_redemptions as {{ type_double() }}) / nullif(liquidity.aum, 0) as value,
        liquidity.net_redemptions as numerator,
        liquidity.aum as denominator,
        max_share.value as threshold,
        case
            when liquidity.aum is null or liquidity.net_redemptions is null then 'INSUFFICIENT_DATA'
            when liquidity.aum = 0 then 'NOT_APPLICABLE'
            else {{ threshold_status('cast(liquidity.net_redemptions as ' ~ type_double() ~ ') / liquidity.aum', 'max_share') }}
        end as status,
        cast(null as {{ dbt.type_string() }}) as evidence
    from liquidity
    inner join enterprise_periods
        on liquidity.submission_id = enterprise_periods.submission_id
    {{ join_threshold('max_daily_share', alias='max_share', indicator=indicator_id, ent_type='enterprise_periods.ent_type', on_date='liquidity.as_of_date') }}
    where enterprise_periods.ent_type = 'WM'
),

rolled_up as (
    select * from {{ daily_rollup('daily_scored', 'net_redemption_share', worst='max') }}
),

unioned as (
    select * from daily_scored
    union all
    select * from rolled_up
)

{{ indicator_rows('unioned') }}
