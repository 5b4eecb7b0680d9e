-- CPL-003 Dispute and escalation rate (all types, monthly): complaints closed in the period (Shanghai
-- date of closed_at) that the consumer disputed or that were escalated (to the regulator or the 12363
-- hotline) / complaints closed in the period. WARN above the peer percentile (seed peer_percentile,
-- continuous, the enterprise excluded) when the robust z against peers fires too; INSUFFICIENT_PEERS
-- with fewer than min_peers peers; NOT_APPLICABLE when nothing was closed.
{%- set indicator_id = 'CPL-003' %}

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

complaints as (
    select * from {{ ref('stg_filings__complaints') }}
),

closed_counts as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        count(*) as closed,
        sum(case when complaints.consumer_disputed or complaints.escalated then 1 else 0 end) as disputed
    from enterprise_periods
    inner join complaints
        on enterprise_periods.enterprise_id = complaints.enterprise_id
        and enterprise_periods.period = complaints.period
    where complaints.closed_date_sh between enterprise_periods.period_start and enterprise_periods.period_end
    group by 1, 2
),

rates as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.ent_type,
        enterprise_periods.period,
        '{{ indicator_id }}' as indicator_id,
        'disputed_or_escalated_rate' as metric,
        cast(null as {{ dbt.type_string() }}) as dimension,
        cast(null as {{ dbt.type_string() }}) as dimension_value,
        coalesce(closed_counts.disputed, 0) as numerator,
        coalesce(closed_counts.closed, 0) as denominator,
        cast(closed_counts.disputed as {{ type_double() }}) / nullif(closed_counts.closed, 0) as value
    from enterprise_periods
    left join closed_counts
        on enterprise_periods.enterprise_id = closed_counts.enterprise_id
        and enterprise_periods.period = closed_counts.period
),

scored as (
    {%- set row_status %}
        case
            when rates.denominator = 0 then 'NOT_APPLICABLE'
            when not peer_screen.screen_sufficient then 'INSUFFICIENT_PEERS'
            when {{ percentile_screen_fires('rates.value', 'peer_screen', 'peer_pctl') }} then peer_screen.screen_severity
            else 'OK'
        end
    {%- endset %}
    {%- set row_threshold %}
        case when peer_screen.screen_sufficient then {{ percentile_screen_bound('peer_screen', 'peer_pctl') }} end
    {%- endset %}
    {%- set row_evidence %}
        cast(rates.numerator as {{ dbt.type_string() }}) || ' of ' || cast(rates.denominator as {{ dbt.type_string() }})
        || ' closed complaint(s) disputed or escalated'
        || coalesce('; peer percentile ' || {{ num_text('peer_pctl.pctl_value', 4) }}, '')
        || coalesce('; ' || {{ screen_evidence('peer_screen', 'peers', digits=4) }}, '')
    {%- endset %}
    select
        {{ indicator_row(indicator_id_sql='rates.indicator_id', metric_sql='rates.metric',
                         value='rates.value', numerator='rates.numerator', denominator='rates.denominator',
                         status=row_status, threshold=row_threshold, evidence=row_evidence,
                         dimension='rates.dimension', dimension_value='rates.dimension_value',
                         enterprise_id='rates.enterprise_id', period='rates.period') }}
    from rates
    left join {{ robust_screen('rates', 'peers') }} as peer_screen
        on {{ screen_keys_match('rates', 'peer_screen') }}
    left join {{ peer_percentile('rates', 'peer_percentile') }} as peer_pctl
        on {{ screen_keys_match('rates', 'peer_pctl') }}
)

{{ indicator_rows('scored') }}
