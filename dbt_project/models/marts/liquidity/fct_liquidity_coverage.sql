-- LIQ-001 Liquidity coverage ratio (PAY, WM, daily, from the liquidity filing):
--   hqla / (O - min(inflows_30d, inflow_cap x O)), O = outflows_30d + stable_runoff x customer_bal_stable
--   + less_stable_runoff x customer_bal_less_stable (run-off rates and the inflow cap from the seed).
-- BREACH below min_lcr. Rolled up to the month (worst day, average).
{%- set indicator_id = 'LIQ-001' %}

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

liquidity as (
    select * from {{ ref('stg_filings__liquidity') }}
),

stressed as (
    select
        liquidity.enterprise_id,
        liquidity.period,
        enterprise_periods.ent_type,
        liquidity.as_of_date,
        liquidity.hqla,
        liquidity.inflows_30d,
        liquidity.outflows_30d
        + stable_runoff.value * liquidity.customer_bal_stable
        + less_stable_runoff.value * liquidity.customer_bal_less_stable as gross_outflows,
        inflow_cap.value as inflow_cap
    from liquidity
    inner join enterprise_periods
        on liquidity.submission_id = enterprise_periods.submission_id
    {{ join_threshold(
        'stable_runoff',
        indicator=indicator_id,
        ent_type='enterprise_periods.ent_type',
        on_date='liquidity.as_of_date'
    ) }}
    {{ join_threshold(
        'less_stable_runoff',
        indicator=indicator_id,
        ent_type='enterprise_periods.ent_type',
        on_date='liquidity.as_of_date'
    ) }}
    {{ join_threshold(
        'inflow_cap',
        indicator=indicator_id,
        ent_type='enterprise_periods.ent_type',
        on_date='liquidity.as_of_date'
    ) }}
    where enterprise_periods.ent_type in ('PAY', 'WM')
),

net_outflows as (
    select
        *,
        gross_outflows - least(inflows_30d, inflow_cap * gross_outflows) as net_outflows
    from stressed
),

daily_scored as (
    {%- set row_value %}
        cast(net_outflows.hqla as {{ type_double() }}) / nullif(net_outflows.net_outflows, 0)
    {%- endset %}
    {%- set row_status %}
        case
            when net_outflows.net_outflows is null then 'INSUFFICIENT_DATA'
            when net_outflows.net_outflows <= 0 then 'NOT_APPLICABLE'
            else {{ threshold_status('cast(net_outflows.hqla as ' ~ type_double() ~ ') / net_outflows.net_outflows', 'min_lcr') }}
        end
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'lcr', value=row_value, numerator='net_outflows.hqla',
                         denominator='net_outflows.net_outflows', status=row_status,
                         threshold='min_lcr.value', as_of_date='net_outflows.as_of_date',
                         enterprise_id='net_outflows.enterprise_id', period='net_outflows.period') }}
    from net_outflows
    {{ join_threshold('min_lcr', indicator=indicator_id, ent_type='net_outflows.ent_type', on_date='net_outflows.as_of_date') }}
),

rolled_up as (
    select * from {{ daily_rollup('daily_scored', 'lcr', worst='min') }}
),

unioned as (
    select * from daily_scored
    union all
    select * from rolled_up
)

{{ indicator_rows('unioned') }}
