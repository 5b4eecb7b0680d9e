-- SEG-005 Idle balance ratio (P2P, CF, WM, monthly): over lender sub-accounts (CUSTOMER_SUB accounts whose
-- owner holds a position in the period's investments), the sum of each account's minimum derived daily
-- balance over the trailing window_days days of the period (opening + cumulative net ok customer legs;
-- the window is cut at the period's first day, so in February it is the whole month) / the sum of their
-- closings. WARN above the peer percentile (seed peer_percentile) when the robust peer screen fires too,
-- its sigma floored at the ratio's sampling noise across accounts (a few large lenders make it swing);
-- INSUFFICIENT_PEERS without min_peers peers.
{%- set indicator_id = 'SEG-005' %}

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

investments as (
    select * from {{ ref('stg_filings__investments') }}
),

platform_periods as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.ent_type,
        enterprise_periods.period_start,
        enterprise_periods.period_end,
        enterprise_periods.submission_id,
        greatest(
            enterprise_periods.period_start,
            cast({{ dbt.dateadd('day', '1 - cast(window_days.value as integer)', 'enterprise_periods.period_end') }} as date)
        ) as window_start
    from enterprise_periods
    {{ join_threshold(
        'window_days',
        indicator=indicator_id,
        ent_type='enterprise_periods.ent_type',
        on_date='enterprise_periods.period_end'
    ) }}
    where enterprise_periods.ent_type in ('P2P', 'CF', 'WM')
),

lender_accounts as (
    select distinct
        accounts.submission_id,
        accounts.account_id,
        balances.opening,
        balances.closing
    from accounts
    inner join platform_periods
        on accounts.submission_id = platform_periods.submission_id
    inner join investments
        on accounts.submission_id = investments.submission_id
        and accounts.owner_party_id = investments.investor_party_id
    inner join balances
        on accounts.submission_id = balances.submission_id
        and accounts.account_id = balances.account_id
    where accounts.account_class = 'CUSTOMER_SUB'
),

leg_sides as (
    select submission_id, value_date, debit_account_id as account_id, -amount_cny as net_amount
    from legs
    where debit_account_id is not null
    union all
    select submission_id, value_date, credit_account_id as account_id, amount_cny as net_amount
    from legs
    where credit_account_id is not null
),

account_days as (
    -- net movement of each lender account per day, and its balance at the end of that day
    select
        lender_accounts.submission_id,
        lender_accounts.account_id,
        leg_sides.value_date,
        sum(leg_sides.net_amount) as net_amount,
        lender_accounts.opening + sum(sum(leg_sides.net_amount)) over (
            partition by lender_accounts.submission_id, lender_accounts.account_id
            order by leg_sides.value_date
            rows between unbounded preceding and current row
        ) as balance
    from lender_accounts
    inner join leg_sides
        on lender_accounts.submission_id = leg_sides.submission_id
        and lender_accounts.account_id = leg_sides.account_id
    group by lender_accounts.submission_id, lender_accounts.account_id, lender_accounts.opening, leg_sides.value_date
),

account_window as (
    -- the lowest end-of-day balance in the window: the balance it opens with (opening + movements
    -- before it) or the balance after a movement day inside it
    select
        lender_accounts.submission_id,
        lender_accounts.account_id,
        lender_accounts.closing,
        lender_accounts.opening
        + coalesce(sum(case when account_days.value_date < platform_periods.window_start then account_days.net_amount end), 0)
            as window_opening,
        min(case when account_days.value_date >= platform_periods.window_start then account_days.balance end) as lowest_inside
    from lender_accounts
    inner join platform_periods
        on lender_accounts.submission_id = platform_periods.submission_id
    left join account_days
        on lender_accounts.submission_id = account_days.submission_id
        and lender_accounts.account_id = account_days.account_id
    group by lender_accounts.submission_id, lender_accounts.account_id, lender_accounts.closing, lender_accounts.opening
),

account_minimum as (
    select
        *,
        least(window_opening, coalesce(lowest_inside, window_opening)) as minimum
    from account_window
),

measured as (
    select
        platform_periods.enterprise_id,
        platform_periods.ent_type,
        platform_periods.period,
        platform_periods.period_end,
        '{{ indicator_id }}' as indicator_id,
        'idle_balance_ratio' as metric,
        cast(null as {{ dbt.type_string() }}) as dimension,
        cast(null as {{ dbt.type_string() }}) as dimension_value,
        coalesce(sum(account_minimum.minimum), 0) as numerator,
        coalesce(sum(account_minimum.closing), 0) as denominator,
        cast(sum(account_minimum.minimum) as {{ type_double() }}) / nullif(sum(account_minimum.closing), 0) as value,
        count(account_minimum.account_id) as lender_accounts,
        {{ money_product_sum('account_minimum.minimum', 'account_minimum.minimum') }} as sum_mm,
        {{ money_product_sum('account_minimum.minimum', 'account_minimum.closing') }} as sum_mc,
        {{ money_product_sum('account_minimum.closing', 'account_minimum.closing') }} as sum_cc
    from platform_periods
    left join account_minimum
        on platform_periods.submission_id = account_minimum.submission_id
    group by
        platform_periods.enterprise_id,
        platform_periods.ent_type,
        platform_periods.period,
        platform_periods.period_end
),

with_noise as (
    -- the sampling sd of a ratio of sums over accounts: sqrt(sum (m_i - r c_i)^2) / sum c_i
    select
        *,
        sqrt(greatest(sum_mm - 2 * value * sum_mc + value * value * sum_cc, 0)) / nullif(denominator, 0) as noise_sd
    from measured
),

scored as (
    {%- set row_status %}
        case
            when measured.value is null then 'NOT_APPLICABLE'
            when not screen.screen_sufficient then 'INSUFFICIENT_PEERS'
            when {{ percentile_screen_fires('measured.value', 'screen', 'percentile') }} then screen.screen_severity
            else 'OK'
        end
    {%- endset %}
    {%- set row_evidence %}
        cast(measured.lender_accounts as {{ dbt.type_string() }}) || ' lender account(s); '
        || coalesce({{ screen_evidence('screen', 'peers') }}, 'too few peers')
        || coalesce(', peer percentile ' || {{ num_text('percentile.pctl_value', 4) }}, '')
    {%- endset %}
    select
        {{ indicator_row(indicator_id_sql='measured.indicator_id', metric_sql='measured.metric',
                         value='measured.value', numerator='measured.numerator',
                         denominator='measured.denominator', status=row_status,
                         threshold=percentile_screen_bound('screen', 'percentile'), evidence=row_evidence,
                         dimension='measured.dimension', dimension_value='measured.dimension_value',
                         enterprise_id='measured.enterprise_id', period='measured.period') }}
    from with_noise as measured
    left join {{ robust_screen('with_noise', 'peers', noise_sd='noise_sd') }} as screen
        on {{ screen_keys_match('measured', 'screen') }}
    left join {{ peer_percentile('with_noise', 'peer_percentile') }} as percentile
        on {{ screen_keys_match('measured', 'percentile') }}
)

{{ indicator_rows('scored') }}
