-- CPL-001 Complaint rate (all types, monthly): complaints with received_at in the period (Shanghai date)
-- / active customers x 10,000, and / customer-leg volume (sum of amount_cny of `ok` customer legs) x 1e8
-- (per CNY 100m). The rate per 10k customers is screened against peers (same type, same period, the
-- enterprise itself excluded): WARN when it is above peer_median_multiple x the peer median with at
-- least min_complaints complaints and the robust peer screen fires; INSUFFICIENT_PEERS with fewer than
-- min_peers peers. The rate per CNY 100m is descriptive (INFO).
{%- set indicator_id = 'CPL-001' %}

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

complaints as (
    select * from {{ ref('stg_filings__complaints') }}
),

active_customers as (
    select * from {{ ref('int_customers_active') }}
),

legs as (
    select * from {{ ref('int_customer_legs_classified') }}
),

complaints_received as (
    select
        complaints.enterprise_id,
        complaints.period,
        count(*) as complaints
    from complaints
    inner join enterprise_periods
        on complaints.enterprise_id = enterprise_periods.enterprise_id
        and complaints.period = enterprise_periods.period
    where complaints.received_date_sh between enterprise_periods.period_start and enterprise_periods.period_end
    group by 1, 2
),

customer_counts as (
    select
        enterprise_id,
        period,
        count(*) as active_customers
    from active_customers
    group by 1, 2
),

volumes as (
    select
        enterprise_id,
        period,
        sum(amount_cny) as customer_leg_volume
    from legs
    group by 1, 2
),

measures as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.ent_type,
        enterprise_periods.period_end,
        coalesce(complaints_received.complaints, 0) as complaints,
        coalesce(customer_counts.active_customers, 0) as active_customers,
        coalesce(volumes.customer_leg_volume, 0) as customer_leg_volume
    from enterprise_periods
    left join complaints_received
        on enterprise_periods.enterprise_id = complaints_received.enterprise_id
        and enterprise_periods.period = complaints_received.period
    left join customer_counts
        on enterprise_periods.enterprise_id = customer_counts.enterprise_id
        and enterprise_periods.period = customer_counts.period
    left join volumes
        on enterprise_periods.enterprise_id = volumes.enterprise_id
        and enterprise_periods.period = volumes.period
),

rates_per_customer as (
    select
        enterprise_id,
        ent_type,
        period,
        period_end,
        '{{ indicator_id }}' as indicator_id,
        'complaints_per_10k_customers' as metric,
        cast(null as {{ dbt.type_string() }}) as dimension,
        cast(null as {{ dbt.type_string() }}) as dimension_value,
        complaints,
        complaints as numerator,
        active_customers as denominator,
        10000 * cast(complaints as {{ type_double() }}) / nullif(active_customers, 0) as value
    from measures
),

rates_per_volume as (
    {%- set row_value %}
        100000000 * cast(complaints as {{ type_double() }}) / nullif(customer_leg_volume, 0)
    {%- endset %}
    {%- set row_evidence %}
        cast(complaints as {{ dbt.type_string() }}) || ' complaint(s) / CNY '
        || {{ num_text('customer_leg_volume') }} || ' of customer legs'
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'complaints_per_100m_cny', value=row_value, numerator='complaints',
                         denominator='customer_leg_volume',
                         status="case when customer_leg_volume = 0 then 'NOT_APPLICABLE' else 'INFO' end",
                         evidence=row_evidence) }}
    from measures
),

screened as (
    select
        rates.*,
        peer_screen.screen_n,
        peer_screen.screen_median,
        peer_screen.screen_z,
        peer_screen.screen_sufficient,
        peer_screen.screen_fires,
        peer_screen.screen_severity,
        peer_screen.screen_bound,
        peer_median_multiple.value * peer_screen.screen_median as median_cutoff,
        case
            when rates.denominator = 0 then 'NOT_APPLICABLE'
            when not peer_screen.screen_sufficient then 'INSUFFICIENT_PEERS'
            when peer_screen.screen_fires
                and {{ compare('rates.complaints', 'min_complaints') }}
                and {{ compare('rates.value', 'peer_median_multiple', 'peer_median_multiple.value * peer_screen.screen_median') }}
                then peer_median_multiple.severity
            else 'OK'
        end as status
    from rates_per_customer as rates
    left join {{ robust_screen('rates_per_customer', 'peers') }} as peer_screen
        on {{ screen_keys_match('rates', 'peer_screen') }}
    {{ join_threshold('peer_median_multiple', indicator=indicator_id, ent_type='rates.ent_type', on_date='rates.period_end') }}
    {{ join_threshold('min_complaints', indicator=indicator_id, ent_type='rates.ent_type', on_date='rates.period_end') }}
),

rates_scored as (
    {%- set row_evidence %}
        cast(complaints as {{ dbt.type_string() }}) || ' complaint(s) / '
        || cast(denominator as {{ dbt.type_string() }}) || ' active customer(s)'
        || coalesce('; ' || {{ screen_evidence('screened', 'peers') }}, '')
    {%- endset %}
    select
        {{ indicator_row(indicator_id_sql='indicator_id', metric_sql='metric', value='value',
                         numerator='numerator', denominator='denominator', status='status',
                         threshold='case when denominator > 0 and screen_sufficient then greatest(median_cutoff, screen_bound) end',
                         evidence=row_evidence, dimension='dimension', dimension_value='dimension_value') }}
    from screened
),

unioned as (
    select * from rates_scored
    union all
    select * from rates_per_volume
)

{{ indicator_rows('unioned') }}
