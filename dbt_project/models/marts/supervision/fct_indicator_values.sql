-- Every indicator value of every enterprise x period, in the long format of indicators.md: one row per
-- (enterprise_id, period, indicator_id, metric, as_of_date, dimension, dimension_value). The union of the
-- indicator marts: indicator_marts(), generated from the models' meta.indicators and checked against
-- the dbt graph.
{%- do check_indicator_marts() %}

with

unioned as (
    {%- for mart in indicator_marts() %}
    select
        {{ indicator_value_columns() | join(',\n        ') }}
    from {{ ref(mart) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from unioned
