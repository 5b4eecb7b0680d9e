-- FLOW-004 Velocity and dwell time (all types, monthly):
--   velocity   = outflow / average daily customer balance (the derived totals of all customer pools);
--   dwell_days = average daily customer balance / average daily outflow (outflow / days in the period), INFO.
-- velocity WARNs above the peer percentile (seed peer_percentile, with the robust peer screen firing too)
-- or when the own-history robust screen fires (funnel-account red flag: money leaves fast).
{%- set indicator_id = 'FLOW-004' %}

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

customer_balances as (
    select * from {{ ref('int_customer_balances_daily') }}
),

flows as (
    select * from {{ ref('int_flows_by_direction') }}
),

daily_totals as (
    select enterprise_id, period, biz_date, sum(derived_total) as customer_total
    from customer_balances
    group by 1, 2, 3
),

average_balances as (
    select
        enterprise_id,
        period,
        avg(customer_total) as average_balance,
        count(*) as days
    from daily_totals
    group by 1, 2
),

measured as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.ent_type,
        enterprise_periods.period,
        '{{ indicator_id }}' as indicator_id,
        cast(null as {{ dbt.type_string() }}) as dimension,
        cast(null as {{ dbt.type_string() }}) as dimension_value,
        coalesce(flows.outflow, 0) as outflow,
        coalesce(average_balances.average_balance, 0) as average_balance,
        {{ dbt.datediff(
            'enterprise_periods.period_start',
            'enterprise_periods.period_end',
            'day'
        ) }} + 1 as period_days
    from enterprise_periods
    left join flows
        on enterprise_periods.enterprise_id = flows.enterprise_id
        and enterprise_periods.period = flows.period
        and flows.dimension is null
    left join average_balances
        on enterprise_periods.enterprise_id = average_balances.enterprise_id
        and enterprise_periods.period = average_balances.period
),

velocity as (
    select
        measured.*,
        'velocity' as metric,
        cast(measured.outflow as {{ type_double() }}) / nullif(measured.average_balance, 0) as value
    from measured
),

velocity_scored as (
    {%- set row_status %}
        case
            when velocity.value is null then 'NOT_APPLICABLE'
            when {{ percentile_screen_fires('velocity.value', 'peer_screen', 'percentile') }} then peer_screen.screen_severity
            when history_screen.screen_fires then history_screen.screen_severity
            when not peer_screen.screen_sufficient and not history_screen.screen_sufficient then 'INSUFFICIENT_PEERS'
            else 'OK'
        end
    {%- endset %}
    {%- set row_threshold %}
        case
            when {{ percentile_screen_fires('velocity.value', 'peer_screen', 'percentile') }}
                then {{ percentile_screen_bound('peer_screen', 'percentile') }}
            when history_screen.screen_fires then history_screen.screen_bound
            else {{ percentile_screen_bound('peer_screen', 'percentile') }}
        end
    {%- endset %}
    {%- set row_evidence %}
        coalesce({{ screen_evidence('peer_screen', 'peers') }}, 'too few peers')
        || coalesce(', peer percentile ' || {{ num_text('percentile.pctl_value', 4) }}, '')
        || '; ' || coalesce({{ screen_evidence('history_screen', 'history') }}, 'too little history')
    {%- endset %}
    select
        {{ indicator_row(indicator_id_sql='velocity.indicator_id', metric_sql='velocity.metric',
                         value='velocity.value', numerator='velocity.outflow',
                         denominator='velocity.average_balance', status=row_status, threshold=row_threshold,
                         evidence=row_evidence, dimension='velocity.dimension',
                         dimension_value='velocity.dimension_value', enterprise_id='velocity.enterprise_id',
                         period='velocity.period') }}
    from velocity
    left join {{ robust_screen('velocity', 'peers') }} as peer_screen
        on {{ screen_keys_match('velocity', 'peer_screen') }}
    left join {{ robust_screen('velocity', 'history') }} as history_screen
        on {{ screen_keys_match('velocity', 'history_screen') }}
    left join {{ peer_percentile('velocity', 'peer_percentile') }} as percentile
        on {{ screen_keys_match('velocity', 'percentile') }}
),

dwell as (
    {%- set row_value %}
        cast(average_balance as {{ type_double() }}) * period_days / nullif(outflow, 0)
    {%- endset %}
    {%- set row_denominator %}
        cast(outflow as {{ type_double() }}) / period_days
    {%- endset %}
    select
        {{ indicator_row(indicator_id_sql='indicator_id', metric='dwell_days', value=row_value,
                         numerator='average_balance', denominator=row_denominator,
                         status="case when outflow = 0 then 'NOT_APPLICABLE' else 'INFO' end",
                         dimension='dimension', dimension_value='dimension_value') }}
    from measured
),

unioned as (
    select * from velocity_scored
    union all
    select * from dwell
)

{{ indicator_rows('unioned') }}
