-- RES-001 Reserve coverage ratio (PAY, daily): sum of bank_confirmed_closing of the RESERVE_CENTRAL and
-- RESERVE_BANK accounts / the derived CUSTOMER_WALLET total, per Shanghai day; BREACH below the seed's
-- min_coverage valid that day. Rolled up to the month: the worst day (its numerator and denominator, the
-- breach days as evidence) and the average of the daily ratios.
-- Not daily_rollup(): the roll-up differs in more than wording. Its evidence reads 'day(s) below
-- threshold' / 'without complete reserve data' / 'daily ratio(s)' (daily_rollup: 'flagged' / 'without
-- data' / 'daily value(s)'); a month with scored days and a day without data takes its worst scored
-- day's status here (INSUFFICIENT_DATA in daily_rollup); the worst day is the lowest ratio (daily_rollup
-- ranks status first); the average adds the ratios in day order. Moving it changes published values.
{%- set indicator_id = 'RES-001' %}
{%- set scored_statuses = "('OK', 'INFO', 'WARN', 'BREACH')" %}

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

customer_balances as (
    select * from {{ ref('int_customer_balances_daily') }}
),

wallet_totals as (
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

reserve_balances as (
    select enterprise_id, period, biz_date, confirmed_total as reserve_total, balance_rows as reserve_rows, confirmed_rows
    from ({{ confirmed_balances_daily(['RESERVE_CENTRAL', 'RESERVE_BANK']) }}) as confirmed
),

daily as (
    select
        wallet_totals.enterprise_id,
        wallet_totals.period,
        wallet_totals.ent_type,
        wallet_totals.biz_date,
        reserve_balances.reserve_total as numerator,
        wallet_totals.derived_total as denominator,
        reserve_balances.reserve_rows,
        reserve_balances.confirmed_rows
    from wallet_totals
    left join reserve_balances
        on wallet_totals.enterprise_id = reserve_balances.enterprise_id
        and wallet_totals.period = reserve_balances.period
        and wallet_totals.biz_date = reserve_balances.biz_date
),

daily_scored as (
    {%- set row_value %}
        cast(daily.numerator as {{ type_double() }}) / nullif(daily.denominator, 0)
    {%- endset %}
    {%- set row_status %}
        case
            when daily.reserve_rows is null or daily.confirmed_rows < daily.reserve_rows
                then 'INSUFFICIENT_DATA'
            when daily.denominator = 0 then 'NOT_APPLICABLE'
            else {{ threshold_status('cast(daily.numerator as ' ~ type_double() ~ ') / daily.denominator', 'min_coverage') }}
        end
    {%- endset %}
    {%- set row_evidence %}
        case
            when daily.reserve_rows is null then 'no RESERVE_* balance row on this day'
            when daily.confirmed_rows < daily.reserve_rows then 'RESERVE_* row without bank_confirmed_closing'
        end
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'coverage_ratio', value=row_value, numerator='daily.numerator',
                         denominator='daily.denominator', status=row_status, threshold='min_coverage.value',
                         evidence=row_evidence, as_of_date='daily.biz_date',
                         enterprise_id='daily.enterprise_id', period='daily.period') }}
    from daily
    {{ join_threshold('min_coverage', indicator=indicator_id, ent_type='daily.ent_type', on_date='daily.biz_date') }}
),

worst_days as (
    select
        *,
        row_number() over (
            partition by enterprise_id, period
            order by value, as_of_date
        ) as worst_rank
    from daily_scored
    where status in {{ scored_statuses }}
),

month_summary as (
    select
        enterprise_id,
        period,
        count(*) as days,
        sum(case when status in {{ scored_statuses }} then 1 else 0 end) as scored_days,
        -- doubles added in day order: the same bits on every run (a parallel sum's order varies)
        {{ ordered_sum('case when status in ' ~ scored_statuses ~ ' then value end', 'as_of_date') }} as sum_of_ratios,
        sum(case when status = 'INSUFFICIENT_DATA' then 1 else 0 end) as insufficient_days,
        sum(case when status = 'BREACH' then 1 else 0 end) as breach_days,
        {{ dbt.listagg(
            "case when status = 'BREACH' then cast(as_of_date as " ~ dbt.type_string() ~ ") end",
            "', '",
            "order by as_of_date"
        ) }} as breach_day_list
    from daily_scored
    group by 1, 2
),

worst_day as (
    {%- set row_status %}
        case
            when worst_days.status is not null then worst_days.status
            when month_summary.insufficient_days > 0 then 'INSUFFICIENT_DATA'
            else 'NOT_APPLICABLE'
        end
    {%- endset %}
    {%- set row_evidence %}
        coalesce('worst day ' || cast(worst_days.as_of_date as {{ dbt.type_string() }}), 'no day to score')
        || case
            when month_summary.breach_days > 0
                then '; ' || cast(month_summary.breach_days as {{ dbt.type_string() }})
                || ' day(s) below threshold: ' || month_summary.breach_day_list
            else ''
        end
        || case
            when month_summary.insufficient_days > 0
                then '; ' || cast(month_summary.insufficient_days as {{ dbt.type_string() }})
                || ' day(s) without complete reserve data'
            else ''
        end
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'coverage_ratio_worst_day', value='worst_days.value',
                         numerator='worst_days.numerator', denominator='worst_days.denominator',
                         status=row_status, threshold='worst_days.threshold', evidence=row_evidence,
                         enterprise_id='month_summary.enterprise_id', period='month_summary.period') }}
    from month_summary
    left join worst_days
        on month_summary.enterprise_id = worst_days.enterprise_id
        and month_summary.period = worst_days.period
        and worst_days.worst_rank = 1
),

average as (
    {%- set row_evidence %}
        'average of ' || cast(scored_days as {{ dbt.type_string() }}) || ' daily ratio(s)'
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'coverage_ratio_avg', value='sum_of_ratios / nullif(scored_days, 0)',
                         numerator='sum_of_ratios', denominator='scored_days',
                         status="case when scored_days = 0 then 'NOT_APPLICABLE' else 'INFO' end",
                         evidence=row_evidence) }}
    from month_summary
),

unioned as (
    select * from daily_scored
    union all
    select * from worst_day
    union all
    select * from average
)

{{ indicator_rows('unioned') }}
