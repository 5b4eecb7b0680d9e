{#- The long format every indicator mart produces (indicators.md "Conventions"): one row per
    (enterprise_id, period, indicator_id, metric, as_of_date, dimension, dimension_value) with value,
    numerator, denominator, threshold, status, plus `evidence` (a short pointer for fct_alerts, kept out
    of fct_indicator_values) and computed_at = the warehouse clock. -#}

{#- indicator_marts() (macros/indicator_marts.sql) is generated from the models' meta.indicators by
    `python -m pipelines.docs.indicators_doc`. At run time this check compares it with the dbt graph: every
    model of this project whose config.meta.indicators is set, and nothing else. fct_indicator_values and
    fct_alerts call it, so a mart added without regenerating the list fails the build instead of being
    left out of the union. -#}
{% macro check_indicator_marts() -%}
    {%- if execute -%}
        {%- set in_graph = [] -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and node.package_name == project_name
                    and ((node.config.meta or {}).get('indicators') or (node.meta or {}).get('indicators')) -%}
                {%- do in_graph.append(node.name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set listed = indicator_marts() -%}
        {%- if in_graph | sort != listed | sort -%}
            {%- do exceptions.raise_compiler_error(
                "indicator_marts() is stale: models documenting indicators but not listed: "
                ~ (in_graph | reject('in', listed) | list) ~ "; listed but documenting none: "
                ~ (listed | reject('in', in_graph) | list)
                ~ ". Run: python -m pipelines.docs.indicators_doc") -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro indicator_value_columns() -%}
    {{ return(['enterprise_id', 'period', 'indicator_id', 'metric', 'as_of_date', 'dimension',
               'dimension_value', 'value', 'numerator', 'denominator', 'threshold', 'status', 'computed_at']) }}
{%- endmacro %}

{% macro type_double() -%}double{%- endmacro %}

{#- The final select of an indicator mart over a CTE that has the columns by name (as_of_date,
    dimension, dimension_value, threshold and evidence may be null). Casts to the contract's types and
    stamps computed_at. -#}
{% macro indicator_rows(cte) -%}
    select
        cast(enterprise_id as {{ dbt.type_string() }}) as enterprise_id,
        cast(period as {{ dbt.type_string() }}) as period,
        cast(indicator_id as {{ dbt.type_string() }}) as indicator_id,
        cast(metric as {{ dbt.type_string() }}) as metric,
        cast(as_of_date as date) as as_of_date,
        cast(dimension as {{ dbt.type_string() }}) as dimension,
        cast(dimension_value as {{ dbt.type_string() }}) as dimension_value,
        cast(value as {{ type_double() }}) as value,
        cast(numerator as {{ type_double() }}) as numerator,
        cast(denominator as {{ type_double() }}) as denominator,
        cast(threshold as {{ type_double() }}) as threshold,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(evidence as {{ dbt.type_string() }}) as evidence,
        {{ as_of_timestamp() }} as computed_at
    from {{ cte }}
{%- endmacro %}

{#- A number as text for messages and evidence, rounded to `digits` places. -#}
{% macro num_text(expr, digits=2) -%}
    case
        when isfinite(cast({{ expr }} as {{ type_double() }}))
            then cast(round(cast({{ expr }} as {{ type_double() }}), {{ digits }}) as {{ dbt.type_string() }})
        when {{ expr }} is not null then 'n/a'
    end
{%- endmacro %}
