-- SEG-001 Custody coverage (P2P, CF, WM, daily): bank_confirmed_closing of the CUSTODY_SUMMARY accounts /
-- the derived total of their CUSTOMER_SUB accounts, per Shanghai day; BREACH below min_coverage. Rolled up
-- to the month (worst day, average), plus custodian_banks = the number of distinct bank_code of the
-- CUSTODY_SUMMARY accounts, BREACH outside [min_custodian_banks, max_custodian_banks] (one custodian).
{%- set indicator_id = 'SEG-001' %}

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

customer_balances as (
    select * from {{ ref('int_customer_balances_daily') }}
),

accounts as (
    select * from {{ ref('stg_filings__accounts') }}
),

custody_periods as (
    select enterprise_id, period, ent_type, period_end, submission_id
    from enterprise_periods
    where ent_type in ('P2P', 'CF', 'WM')
),

sub_totals as (
    select
        customer_balances.enterprise_id,
        customer_balances.period,
        customer_balances.biz_date,
        sum(customer_balances.derived_total) as derived_total
    from customer_balances
    where customer_balances.account_class = 'CUSTOMER_SUB'
    group by 1, 2, 3
),

summary_balances as (
    select enterprise_id, period, biz_date, confirmed_total, balance_rows as summary_rows, confirmed_rows
    from ({{ confirmed_balances_daily(['CUSTODY_SUMMARY']) }}) as confirmed
),

daily_scored as (
    {%- set row_value %}
        cast(summary_balances.confirmed_total as {{ type_double() }}) / nullif(sub_totals.derived_total, 0)
    {%- endset %}
    {%- set row_status %}
        case
            when summary_balances.summary_rows is null or summary_balances.confirmed_rows < summary_balances.summary_rows
                then 'INSUFFICIENT_DATA'
            when sub_totals.derived_total = 0 then 'NOT_APPLICABLE'
            else {{ threshold_status('cast(summary_balances.confirmed_total as ' ~ type_double() ~ ') / sub_totals.derived_total', 'min_coverage') }}
        end
    {%- endset %}
    {%- set row_evidence %}
        case
            when summary_balances.summary_rows is null then 'no CUSTODY_SUMMARY balance row on this day'
            when summary_balances.confirmed_rows < summary_balances.summary_rows then 'CUSTODY_SUMMARY row without bank_confirmed_closing'
        end
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'custody_coverage', value=row_value,
                         numerator='summary_balances.confirmed_total',
                         denominator='sub_totals.derived_total', status=row_status,
                         threshold='min_coverage.value', evidence=row_evidence,
                         as_of_date='sub_totals.biz_date', enterprise_id='sub_totals.enterprise_id',
                         period='sub_totals.period') }}
    from sub_totals
    inner join custody_periods
        on sub_totals.enterprise_id = custody_periods.enterprise_id
        and sub_totals.period = custody_periods.period
    left join summary_balances
        on sub_totals.enterprise_id = summary_balances.enterprise_id
        and sub_totals.period = summary_balances.period
        and sub_totals.biz_date = summary_balances.biz_date
    {{ join_threshold(
        'min_coverage',
        indicator=indicator_id,
        ent_type='custody_periods.ent_type',
        on_date='sub_totals.biz_date'
    ) }}
),

rolled_up as (
    select * from {{ daily_rollup('daily_scored', 'custody_coverage', worst='min') }}
),

banks as (
    select
        custody_periods.enterprise_id,
        custody_periods.period,
        custody_periods.ent_type,
        custody_periods.period_end,
        count(distinct accounts.bank_code) as banks,
        {{ dbt.listagg('distinct accounts.bank_code', "', '", 'order by accounts.bank_code') }} as bank_list
    from custody_periods
    left join accounts
        on custody_periods.submission_id = accounts.submission_id
        and accounts.account_class = 'CUSTODY_SUMMARY'
    group by 1, 2, 3, 4
),

bank_count as (
    {%- set row_value %}
        cast(banks.banks as {{ type_double() }})
    {%- endset %}
    {%- set row_status %}
        case
            when {{ compare('banks.banks', 'min_banks') }} then min_banks.severity
            when {{ compare('banks.banks', 'max_banks') }} then max_banks.severity
            when min_banks.value is null and max_banks.value is null then 'INFO'
            else 'OK'
        end
    {%- endset %}
    {%- set row_threshold %}
        case when {{ compare('banks.banks', 'min_banks') }} then min_banks.value else max_banks.value end
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'custodian_banks', value=row_value, numerator='banks.banks',
                         denominator='1', status=row_status, threshold=row_threshold,
                         evidence="'custodian banks: ' || coalesce(banks.bank_list, 'none')",
                         enterprise_id='banks.enterprise_id', period='banks.period') }}
    from banks
    {{ join_threshold(
        'min_custodian_banks',
        alias='min_banks',
        indicator=indicator_id,
        ent_type='banks.ent_type',
        on_date='banks.period_end'
    ) }}
    {{ join_threshold(
        'max_custodian_banks',
        alias='max_banks',
        indicator=indicator_id,
        ent_type='banks.ent_type',
        on_date='banks.period_end'
    ) }}
),

unioned as (
    select * from daily_scored
    union all
    select * from rolled_up
    union all
    select * from bank_count
)

{{ indicator_rows('unioned') }}
