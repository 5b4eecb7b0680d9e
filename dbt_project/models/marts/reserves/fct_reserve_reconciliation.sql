-- RES-003 Reconciliation break (PAY, daily): |closing - bank_confirmed_closing| of each RESERVE_* account
-- per day (dimension account_id). BREACH when the break exceeds the seed's tolerance and the account's
-- break still exceeds it on the next working day (a break cleared by then is OK); a break on the last
-- working day filed so far is INSUFFICIENT_DATA until the next day is filed. Rolled up to the month.
{%- set indicator_id = 'RES-003' %}

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

accounts as (
    select * from {{ ref('stg_filings__accounts') }}
),

balances as (
    select * from {{ ref('stg_filings__account_balances') }}
),

reserve_days as (
    select
        balances.enterprise_id,
        balances.period,
        enterprise_periods.ent_type,
        balances.account_id,
        balances.biz_date,
        abs(balances.closing - balances.bank_confirmed_closing) as break_amount
    from balances
    inner join accounts
        on balances.submission_id = accounts.submission_id
        and balances.account_id = accounts.account_id
    inner join enterprise_periods
        on balances.submission_id = enterprise_periods.submission_id
    where accounts.account_class in ('RESERVE_CENTRAL', 'RESERVE_BANK')
        and enterprise_periods.ent_type = 'PAY'
        and {{ is_working_day('balances.biz_date') }}
),

with_next as (
    -- the same account's next working day, across periods (account ids are the enterprise's own)
    select
        *,
        lead(break_amount) over (
            partition by enterprise_id, account_id order by biz_date
        ) as next_break_amount,
        lead(biz_date) over (
            partition by enterprise_id, account_id order by biz_date
        ) as next_biz_date
    from reserve_days
),

daily_scored as (
    {%- set row_value %}
        cast(with_next.break_amount as {{ type_double() }})
    {%- endset %}
    {%- set row_status %}
        case
            when with_next.break_amount is null then 'INSUFFICIENT_DATA'
            when not {{ compare('with_next.break_amount', 'tolerance') }} then 'OK'
            when with_next.next_biz_date is null then 'INSUFFICIENT_DATA'
            when {{ compare('with_next.next_break_amount', 'tolerance') }} then tolerance.severity
            else 'OK'
        end
    {%- endset %}
    {%- set row_evidence %}
        case
            when with_next.break_amount is null then 'bank_confirmed_closing missing'
            when {{ compare('with_next.break_amount', 'tolerance') }}
                then 'break ' || {{ num_text('with_next.break_amount') }} || ', next working day '
                || coalesce(cast(with_next.next_biz_date as {{ dbt.type_string() }}) || ' break '
                    || {{ num_text('with_next.next_break_amount') }}, 'not filed yet')
        end
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'reconciliation_break', value=row_value,
                         numerator='with_next.break_amount', denominator='1', status=row_status,
                         threshold='tolerance.value', evidence=row_evidence, as_of_date='with_next.biz_date',
                         dimension="'account_id'", dimension_value='with_next.account_id',
                         enterprise_id='with_next.enterprise_id', period='with_next.period') }}
    from with_next
    {{ join_threshold('tolerance', indicator=indicator_id, ent_type='with_next.ent_type', on_date='with_next.biz_date') }}
),

rolled_up as (
    select * from {{ daily_rollup('daily_scored', 'reconciliation_break', worst='max') }}
),

unioned as (
    select * from daily_scored
    union all
    select * from rolled_up
)

{{ indicator_rows('unioned') }}
