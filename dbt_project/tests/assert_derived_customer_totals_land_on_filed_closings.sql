-- indicators.md: the derived daily customer total must land on the sum of the filed closings at period
-- end. Accepted filings pass X-01, so a difference means the derivation (or the intake) is wrong.
{{ config(severity='warn') }}

with

balances as (
    select * from {{ ref('int_customer_balances_daily') }}
),

period_ends as (
    select
        *,
        row_number() over (
            partition by enterprise_id, period, account_class, pool_account_id
            order by biz_date desc
        ) as from_end
    from balances
)

select *
from period_ends
where from_end = 1
    and derived_total <> filed_closing_total
