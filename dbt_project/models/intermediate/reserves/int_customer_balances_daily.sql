-- Derived daily customer totals (indicators.md): per enterprise, period and customer pool — the
-- CUSTOMER_WALLET accounts (PAY), or the CUSTOMER_SUB accounts under one CUSTODY_SUMMARY — and per day
-- of the period: the sum of the pool's period openings plus the cumulative net flow of `ok` customer
-- legs into the pool's accounts up to that day (by value_date). At period end it must land on the sum
-- of the filed closings (filed_closing_total). Customer balance rows are filed once per period, so this
-- is the only daily view of customer money.

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

legs as (
    select * from {{ ref('int_customer_legs_classified') }}
),

customer_accounts as (
    select
        submission_id,
        enterprise_id,
        period,
        account_id,
        account_class,
        case when account_class = 'CUSTOMER_SUB' then parent_account_id end as pool_account_id
    from accounts
    where account_class in ('CUSTOMER_WALLET', 'CUSTOMER_SUB')
),

pools as (
    -- a PAY institution always has its wallet pool, even with no wallet (a zero total)
    select enterprise_id, period, 'CUSTOMER_WALLET' as account_class, cast(null as {{ dbt.type_string() }}) as pool_account_id
    from enterprise_periods
    where ent_type = 'PAY'
    union
    select enterprise_id, period, 'CUSTOMER_SUB' as account_class, account_id as pool_account_id
    from accounts
    where account_class = 'CUSTODY_SUMMARY'
    union
    select enterprise_id, period, account_class, pool_account_id
    from customer_accounts
),

day_numbers as (
    {{ dbt.generate_series(31) }}
),

period_days as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.period_end,
        cast({{ dbt.dateadd('day', 'day_numbers.generated_number - 1', 'enterprise_periods.period_start') }} as date) as biz_date
    from enterprise_periods
    cross join day_numbers
),

pool_days as (
    select
        pools.enterprise_id,
        pools.period,
        pools.account_class,
        pools.pool_account_id,
        period_days.biz_date
    from pools
    inner join period_days
        on pools.enterprise_id = period_days.enterprise_id
        and pools.period = period_days.period
    where period_days.biz_date <= period_days.period_end
),

pool_balances as (
    select
        customer_accounts.enterprise_id,
        customer_accounts.period,
        customer_accounts.account_class,
        customer_accounts.pool_account_id,
        sum(balances.opening) as opening_total,
        sum(balances.closing) as filed_closing_total,
        count(distinct customer_accounts.account_id) as accounts
    from customer_accounts
    inner join balances
        on customer_accounts.submission_id = balances.submission_id
        and customer_accounts.account_id = balances.account_id
    group by 1, 2, 3, 4
),

leg_sides as (
    -- a leg takes money out of its debit account and puts it into its credit account
    select submission_id, value_date, debit_account_id as account_id, -amount_cny as net_amount
    from legs
    where debit_account_id is not null
    union all
    select submission_id, value_date, credit_account_id as account_id, amount_cny as net_amount
    from legs
    where credit_account_id is not null
),

pool_flows as (
    select
        customer_accounts.enterprise_id,
        customer_accounts.period,
        customer_accounts.account_class,
        customer_accounts.pool_account_id,
        leg_sides.value_date,
        sum(leg_sides.net_amount) as net_flow
    from leg_sides
    inner join customer_accounts
        on leg_sides.submission_id = customer_accounts.submission_id
        and leg_sides.account_id = customer_accounts.account_id
    group by 1, 2, 3, 4, 5
),

derived as (
    select
        pool_days.enterprise_id,
        pool_days.period,
        pool_days.account_class,
        pool_days.pool_account_id,
        pool_days.biz_date,
        coalesce(pool_balances.accounts, 0) as accounts,
        coalesce(pool_balances.opening_total, 0) as opening_total,
        coalesce(pool_flows.net_flow, 0) as net_flow,
        coalesce(pool_balances.opening_total, 0) + sum(coalesce(pool_flows.net_flow, 0)) over (
            partition by pool_days.enterprise_id, pool_days.period, pool_days.account_class, pool_days.pool_account_id
            order by pool_days.biz_date
            rows between unbounded preceding and current row
        ) as derived_total,
        coalesce(pool_balances.filed_closing_total, 0) as filed_closing_total
    from pool_days
    left join pool_balances
        on pool_days.enterprise_id = pool_balances.enterprise_id
        and pool_days.period = pool_balances.period
        and pool_days.account_class = pool_balances.account_class
        and pool_days.pool_account_id is not distinct from pool_balances.pool_account_id
    left join pool_flows
        on pool_days.enterprise_id = pool_flows.enterprise_id
        and pool_days.period = pool_flows.period
        and pool_days.account_class = pool_flows.account_class
        and pool_days.pool_account_id is not distinct from pool_flows.pool_account_id
        and pool_days.biz_date = pool_flows.value_date
)

select * from derived
