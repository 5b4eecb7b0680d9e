-- FLOW-001 Net flow by direction (all types, monthly): inflow, outflow and net (inflow - outflow) of
-- amount_cny over `ok` customer legs, in total and broken down by the counterparty fields (cp_sector,
-- cp_region, cp_country, is_cross_border) and the related-party flag of the external-side party
-- (dimension_value 'none' where the field is null), from int_flows_by_direction. Breakdowns and gross
-- flows are INFO; the total net flow is screened against the enterprise's own history (two-sided robust
-- z): WARN when it fires, INSUFFICIENT_HISTORY with fewer than min_history previous periods. The
-- screen's sigma is at least the net flow's sampling noise, sqrt(sum of squared leg amounts in and out):
-- a month's net is a sum of legs, and a few large top-ups or withdrawals move it by that much by chance.
{%- set indicator_id = 'FLOW-001' %}

with

flows as (
    select * from {{ ref('int_flows_by_direction') }}
),

flow_values as (
    {%- for metric, expression in [('inflow', 'inflow'), ('outflow', 'outflow'), ('net', 'inflow - outflow')] %}
    select
        enterprise_id,
        ent_type,
        period,
        '{{ indicator_id }}' as indicator_id,
        '{{ metric }}' as metric,
        dimension,
        dimension_value,
        cast({{ expression }} as {{ type_double() }}) as value,
        sqrt(inflow_sq + outflow_sq) as noise_sd
    from flows
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

net_totals as (
    select *
    from flow_values
    where metric = 'net'
        and dimension is null
),

scored as (
    {%- set row_status %}
        case
            when history_screen.enterprise_id is null then 'INFO'
            else {{ screen_status('history_screen', 'history') }}
        end
    {%- endset %}
    select
        {{ indicator_row(indicator_id_sql='flow_values.indicator_id', metric_sql='flow_values.metric',
                         value='flow_values.value', numerator='flow_values.value', denominator='1',
                         status=row_status, threshold='history_screen.screen_bound',
                         evidence=screen_evidence('history_screen', 'history'),
                         dimension='flow_values.dimension', dimension_value='flow_values.dimension_value',
                         enterprise_id='flow_values.enterprise_id', period='flow_values.period') }}
    from flow_values
    left join {{ robust_screen('net_totals', 'history', two_sided=true, noise_sd='noise_sd') }} as history_screen
        on {{ screen_keys_match('flow_values', 'history_screen') }}
)

{{ indicator_rows('scored') }}
