-- LIQ-003 P2P cash-flow gap (P2P, monthly): principal of the p2p_loan positions maturing (start_date +
-- term_days) in the horizon_days days after period end - the loans' principal_due_next_30d. An amount
-- (denominator 1). WARN above max_gap; evidence gives both sides.
{%- set indicator_id = 'LIQ-003' %}

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

investments as (
    select * from {{ ref('stg_filings__investments') }}
),

loans as (
    select * from {{ ref('stg_filings__loans') }}
),

p2p_periods as (
    select
        enterprise_periods.*,
        horizon.value as horizon_days
    from enterprise_periods
    {{ join_threshold(
        'horizon_days',
        alias='horizon',
        indicator=indicator_id,
        ent_type='enterprise_periods.ent_type',
        on_date='enterprise_periods.period_end'
    ) }}
    where enterprise_periods.ent_type = 'P2P'
),

maturing as (
    select
        p2p_periods.submission_id,
        sum(investments.principal) as maturing_principal
    from investments
    inner join p2p_periods
        on investments.submission_id = p2p_periods.submission_id
    where investments.product_type = 'p2p_loan'
        and investments.term_days is not null
        and {{ dbt.dateadd('day', 'investments.term_days', 'investments.start_date') }} > p2p_periods.period_end
        and {{ dbt.dateadd('day', 'investments.term_days', 'investments.start_date') }}
            <= {{ dbt.dateadd('day', 'cast(p2p_periods.horizon_days as integer)', 'p2p_periods.period_end') }}
    group by 1
),

due as (
    select submission_id, sum(principal_due_next_30d) as principal_due
    from loans
    group by 1
),

measured as (
    select
        p2p_periods.enterprise_id,
        p2p_periods.period,
        p2p_periods.ent_type,
        p2p_periods.period_end,
        coalesce(maturing.maturing_principal, 0) as maturing_principal,
        coalesce(due.principal_due, 0) as principal_due
    from p2p_periods
    left join maturing
        on p2p_periods.submission_id = maturing.submission_id
    left join due
        on p2p_periods.submission_id = due.submission_id
),

scored as (
    {%- set row_value %}
        cast(measured.maturing_principal - measured.principal_due as {{ type_double() }})
    {%- endset %}
    {%- set row_evidence %}
        'positions maturing ' || {{ num_text('measured.maturing_principal') }}
        || ', loan principal due ' || {{ num_text('measured.principal_due') }}
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'cash_flow_gap', value=row_value,
                         numerator='measured.maturing_principal - measured.principal_due', denominator='1',
                         status=threshold_status('measured.maturing_principal - measured.principal_due', 'max_gap'),
                         threshold='max_gap.value', evidence=row_evidence,
                         enterprise_id='measured.enterprise_id', period='measured.period') }}
    from measured
    {{ join_threshold('max_gap', indicator=indicator_id, ent_type='measured.ent_type', on_date='measured.period_end') }}
)

{{ indicator_rows('scored') }}
