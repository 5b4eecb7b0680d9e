-- AML-008 Reporting effectiveness (indicators.md): per enterprise x period, STRs filed (distinct
-- report_id of report_type STR in the period's current aml_reports) / the warehouse's AML alerts (the
-- party hits of AML-002..AML-007 in fct_aml_typologies). WARN when no STR was filed while the alerts
-- exceed peer_median_multiple x the median of the peers' alerts (peers as in the conventions, through
-- robust_screen; INSUFFICIENT_PEERS with fewer than min_peers); NOT_APPLICABLE without alerts.

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

alerts as (
    select enterprise_id, period, count(*) as alerts
    from {{ ref('fct_aml_typologies') }}
    where dimension = 'party'
        and status in ('WARN', 'BREACH')
    group by enterprise_id, period
),

strs as (
    select enterprise_id, period, count(distinct report_id) as strs
    from {{ ref('stg_filings__aml_reports') }}
    where report_type = 'STR'
    group by enterprise_id, period
),

counts as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.ent_type,
        enterprise_periods.period,
        'AML-008' as indicator_id,
        'strs_per_alert' as metric,
        cast(null as {{ dbt.type_string() }}) as dimension,
        cast(null as {{ dbt.type_string() }}) as dimension_value,
        coalesce(strs.strs, 0) as strs,
        coalesce(alerts.alerts, 0) as alerts,
        cast(coalesce(alerts.alerts, 0) as {{ type_double() }}) as value
    from enterprise_periods
    left join alerts
        on enterprise_periods.enterprise_id = alerts.enterprise_id
        and enterprise_periods.period = alerts.period
    left join strs
        on enterprise_periods.enterprise_id = strs.enterprise_id
        and enterprise_periods.period = strs.period
),

scored as (
    {%- set row_status %}
        case
            when counts.alerts = 0 then 'NOT_APPLICABLE'
            when counts.strs > 0 then 'OK'
            when not peers.screen_sufficient then 'INSUFFICIENT_PEERS'
            else {{ threshold_status('counts.alerts', 'peer_multiple', 'peer_multiple.value * peers.screen_median') }}
        end
    {%- endset %}
    {%- set row_evidence %}
        case
            when peers.screen_sufficient
                then 'alerts ' || cast(counts.alerts as {{ dbt.type_string() }}) || ', STRs '
                || cast(counts.strs as {{ dbt.type_string() }}) || ', peer median of '
                || cast(peers.screen_n as {{ dbt.type_string() }}) || ' peer(s) '
                || {{ num_text('peers.screen_median') }}
        end
    {%- endset %}
    select
        {{ indicator_row(indicator_id_sql='counts.indicator_id', metric_sql='counts.metric',
                         value='case when counts.alerts > 0 then counts.strs * 1.0 / counts.alerts end',
                         numerator='counts.strs', denominator='counts.alerts', status=row_status,
                         threshold='peer_multiple.value * peers.screen_median', evidence=row_evidence,
                         dimension='counts.dimension', dimension_value='counts.dimension_value',
                         enterprise_id='counts.enterprise_id', period='counts.period') }}
    from counts
    left join {{ robust_screen('counts', 'peers') }} as peers
        on {{ screen_keys_match('counts', 'peers') }}
    {{ join_threshold('peer_median_multiple', 'counts.ent_type', period_end('counts.period'),
                      indicator='AML-008', alias='peer_multiple') }}
)

{{ indicator_rows('scored') }}
