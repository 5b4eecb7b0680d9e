-- Alerts: the BREACH and WARN rows of the indicator marts at the monthly grain (daily indicators alert
-- through their monthly roll-up, whose evidence names the days), with the indicator's name and family
-- from the seed `indicators`, the threshold used, a short message and the evidence pointer.
{%- do check_indicator_marts() %}

with

indicators as (
    select * from {{ ref('indicators') }}
),

indicator_rows as (
    {%- for mart in indicator_marts() %}
    select * from {{ ref(mart) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

alerting as (
    select *
    from indicator_rows
    where status in ('BREACH', 'WARN')
        and as_of_date is null
),

final as (
    select
        {{ dbt.hash(dbt.concat([
            'alerting.enterprise_id', "'|'", 'alerting.period', "'|'", 'alerting.indicator_id', "'|'",
            'alerting.metric', "'|'", "coalesce(alerting.dimension, '')", "'|'",
            "coalesce(alerting.dimension_value, '')"])) }} as alert_id,
        alerting.enterprise_id,
        alerting.period,
        alerting.indicator_id,
        indicators.name as indicator_name,
        indicators.family,
        alerting.metric,
        alerting.dimension,
        alerting.dimension_value,
        alerting.status as severity,
        alerting.value,
        alerting.numerator,
        alerting.denominator,
        alerting.threshold,
        alerting.indicator_id || ' ' || coalesce(indicators.name, '') || ': ' || alerting.metric
        || coalesce(' [' || alerting.dimension || ' = ' || alerting.dimension_value || ']', '')
        || ' = ' || coalesce({{ num_text('alerting.value', 4) }}, 'n/a')
        || coalesce(' (threshold ' || {{ num_text('alerting.threshold', 4) }} || ')', '')
        || ' ' || alerting.status as message,
        alerting.evidence,
        alerting.computed_at
    from alerting
    left join indicators
        on alerting.indicator_id = indicators.indicator_id
)

select * from final
