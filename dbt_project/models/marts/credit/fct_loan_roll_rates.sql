-- CRD-002 Roll rates (P2P, CF; monthly), from int_loan_book. roll_rate by dimension transition:
-- M1->M2 = outstanding principal now in M2 of the loans that were in M1 last period / last period's M1
-- balance; M2->M3 likewise. WARN when the rate rose in each of the last consecutive_increases periods
-- (roll-rate method), INSUFFICIENT_HISTORY until that many increases can be seen; NOT_APPLICABLE when
-- the earlier bucket was empty.
{%- set indicator_id = 'CRD-002' %}
{%- set transitions = [('M1', 'M2'), ('M2', 'M3')] %}

with

loan_book as (
    select * from {{ ref('int_loan_book') }}
),

enterprise_periods as (
    select
        *,
        {{ period_index('period') }} as period_index
    from {{ ref('int_enterprise_periods') }}
    where {{ indicator_applies(indicator_id, 'ent_type') }}
),

rolls as (
    {%- for from_bucket, to_bucket in transitions %}
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.ent_type,
        enterprise_periods.period_end,
        enterprise_periods.period_index,
        '{{ from_bucket }}->{{ to_bucket }}' as transition,
        coalesce(sum(case when now_loans.overdue_bucket = '{{ to_bucket }}' then now_loans.outstanding_principal end), 0)
            as rolled,
        coalesce(sum(earlier_loans.outstanding_principal), 0) as earlier_balance,
        count(earlier_loans.loan_id) as earlier_loans
    from enterprise_periods
    left join loan_book as earlier_loans
        on enterprise_periods.enterprise_id = earlier_loans.enterprise_id
        and earlier_loans.period_index = enterprise_periods.period_index - 1
        and earlier_loans.overdue_bucket = '{{ from_bucket }}'
    left join loan_book as now_loans
        on earlier_loans.enterprise_id = now_loans.enterprise_id
        and earlier_loans.loan_id = now_loans.loan_id
        and now_loans.period = enterprise_periods.period
    group by 1, 2, 3, 4, 5, 6
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

rates as (
    select
        *,
        cast(rolled as {{ type_double() }}) / nullif(earlier_balance, 0) as value
    from rolls
),

with_history as (
    select
        rates.*,
        lag(rates.value, 1) over (
            partition by rates.enterprise_id, rates.transition order by rates.period_index
        ) as previous_value,
        lag(rates.period_index, 1) over (
            partition by rates.enterprise_id, rates.transition order by rates.period_index
        ) as previous_index
    from rates
),

steps as (
    select
        *,
        case
            when previous_index = period_index - 1 and value > previous_value then 1
            when previous_index = period_index - 1 and value is not null and previous_value is not null then 0
        end as increased
    from with_history
),

runs as (
    select
        steps.enterprise_id,
        steps.period,
        steps.transition,
        steps.value,
        steps.rolled,
        steps.earlier_balance,
        steps.earlier_loans,
        consecutive_increases.value as required_increases,
        consecutive_increases.severity,
        consecutive_increases.comparison,
        sum(recent.increased) as recent_increases,
        count(recent.increased) as recent_steps
    from steps
    {{ join_threshold('consecutive_increases', indicator=indicator_id, ent_type='steps.ent_type', on_date='steps.period_end') }}
    left join steps as recent
        on steps.enterprise_id = recent.enterprise_id
        and steps.transition = recent.transition
        and recent.period_index <= steps.period_index
        and recent.period_index > steps.period_index - consecutive_increases.value
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
),

scored as (
    {%- set row_status %}
        case
            when earlier_balance = 0 then 'NOT_APPLICABLE'
            when recent_steps < required_increases then 'INSUFFICIENT_HISTORY'
            when {{ compare_with('recent_increases', 'comparison', 'required_increases') }} then severity
            else 'OK'
        end
    {%- endset %}
    {%- set row_evidence %}
        'CNY ' || {{ num_text('rolled') }} || ' of CNY ' || {{ num_text('earlier_balance') }} || ' in '
        || substr(transition, 1, 2) || ' last period (' || cast(earlier_loans as {{ dbt.type_string() }})
        || ' loan(s)) rolled; ' || cast(coalesce(recent_increases, 0) as {{ dbt.type_string() }})
        || ' increase(s) in the last ' || cast(recent_steps as {{ dbt.type_string() }}) || ' period(s)'
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'roll_rate', value='value', numerator='rolled',
                         denominator='earlier_balance', status=row_status, threshold='required_increases',
                         evidence=row_evidence, dimension="'transition'", dimension_value='transition') }}
    from runs
)

{{ indicator_rows('scored') }}
