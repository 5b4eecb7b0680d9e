-- RES-002 Centralised deposit ratio (PAY, daily on working days): RESERVE_CENTRAL bank_confirmed_closing
-- / base. The base rule belongs to the seed's validity window (param base_prev_month_avg): 1 = the previous
-- month's daily average of the derived CUSTOMER_WALLET total (before 2019-01-14), 0 = the same day's
-- derived total. BREACH below the scheduled min_ratio valid that day. Rolled up to the month.
{%- set indicator_id = 'RES-002' %}

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

customer_balances as (
    select * from {{ ref('int_customer_balances_daily') }}
),

wallet_days as (
    select
        customer_balances.enterprise_id,
        customer_balances.period,
        enterprise_periods.ent_type,
        customer_balances.biz_date,
        customer_balances.derived_total
    from customer_balances
    inner join enterprise_periods
        on customer_balances.enterprise_id = enterprise_periods.enterprise_id
        and customer_balances.period = enterprise_periods.period
    where enterprise_periods.ent_type = 'PAY'
        and customer_balances.account_class = 'CUSTOMER_WALLET'
),

monthly_average as (
    select
        enterprise_id,
        {{ period_index('period') }} as period_number,
        avg(derived_total) as average_total
    from wallet_days
    group by 1, 2
),

central_reserve as (
    select enterprise_id, period, biz_date, confirmed_total as central_total, balance_rows as central_rows, confirmed_rows
    from ({{ confirmed_balances_daily(['RESERVE_CENTRAL']) }}) as confirmed
),

daily as (
    select
        wallet_days.enterprise_id,
        wallet_days.period,
        wallet_days.ent_type,
        wallet_days.biz_date,
        central_reserve.central_total,
        central_reserve.central_rows,
        central_reserve.confirmed_rows,
        case
            when base_prev_month_avg.value = 1 then monthly_average.average_total
            else wallet_days.derived_total
        end as base_total,
        base_prev_month_avg.value as uses_previous_month
    from wallet_days
    left join central_reserve
        on wallet_days.enterprise_id = central_reserve.enterprise_id
        and wallet_days.period = central_reserve.period
        and wallet_days.biz_date = central_reserve.biz_date
    left join monthly_average
        on wallet_days.enterprise_id = monthly_average.enterprise_id
        and {{ period_index('wallet_days.period') }} - 1 = monthly_average.period_number
    {{ join_threshold(
        'base_prev_month_avg',
        indicator=indicator_id,
        ent_type='wallet_days.ent_type',
        on_date='wallet_days.biz_date'
    ) }}
    where {{ is_working_day('wallet_days.biz_date') }}
),

daily_scored as (
    {%- set row_value %}
        cast(daily.central_total as {{ type_double() }}) / nullif(daily.base_total, 0)
    {%- endset %}
    {%- set row_status %}
        case
            when daily.central_rows is null or daily.confirmed_rows < daily.central_rows
                or daily.base_total is null
                then 'INSUFFICIENT_DATA'
            when daily.base_total = 0 then 'NOT_APPLICABLE'
            else {{ threshold_status('cast(daily.central_total as ' ~ type_double() ~ ') / daily.base_total', 'min_ratio') }}
        end
    {%- endset %}
    {%- set row_evidence %}
        case
            when daily.central_rows is null then 'no RESERVE_CENTRAL balance row on this day'
            when daily.confirmed_rows < daily.central_rows then 'RESERVE_CENTRAL row without bank_confirmed_closing'
            when daily.base_total is null then 'no previous period to average the wallet total over'
            when daily.uses_previous_month = 1 then 'base: previous month daily average wallet total'
        end
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'deposit_ratio', value=row_value, numerator='daily.central_total',
                         denominator='daily.base_total', status=row_status, threshold='min_ratio.value',
                         evidence=row_evidence, as_of_date='daily.biz_date',
                         enterprise_id='daily.enterprise_id', period='daily.period') }}
    from daily
    {{ join_threshold('min_ratio', indicator=indicator_id, ent_type='daily.ent_type', on_date='daily.biz_date') }}
),

rolled_up as (
    select * from {{ daily_rollup('daily_scored', 'deposit_ratio', worst='min') }}
),

unioned as (
    select * from daily_scored
    union all
    select * from rolled_up
)

{{ indicator_rows('unioned') }}
