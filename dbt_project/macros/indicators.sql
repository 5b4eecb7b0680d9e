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

{#- One long-format indicator row as a select list, in the column order of indicator_rows(): every
    argument but indicator_id and metric is a SQL expression; omitted ones are typed nulls (as_of_date,
    dimension, dimension_value, threshold, evidence). `indicator_id` and `metric` are literals (the id,
    the metric's name); pass `indicator_id_sql` / `metric_sql` instead when a column carries them. The CTEs a mart unions are all written with it, so
    their columns line up. -#}
{% macro indicator_row(indicator_id=none, metric=none, value=none, numerator=none, denominator=none,
                       status=none, threshold=none, evidence=none, as_of_date=none, dimension=none,
                       dimension_value=none, enterprise_id='enterprise_id', period='period',
                       indicator_id_sql=none, metric_sql=none) -%}
    {%- if (indicator_id is none) == (indicator_id_sql is none) or (metric is none) == (metric_sql is none) -%}
        {{ exceptions.raise_compiler_error("indicator_row: give one of indicator_id / indicator_id_sql and one of metric / metric_sql") }}
    {%- endif -%}
    {%- for name, arg in [('value', value), ('numerator', numerator), ('denominator', denominator), ('status', status)] -%}
        {%- if arg is none -%}
            {{ exceptions.raise_compiler_error("indicator_row(" ~ indicator_id ~ ", " ~ (metric or metric_sql) ~ "): " ~ name ~ " is required") }}
        {%- endif -%}
    {%- endfor -%}
    {%- set null_string = 'cast(null as ' ~ dbt.type_string() ~ ')' -%}
        {{ enterprise_id }} as enterprise_id,
        {{ period }} as period,
        {{ indicator_id_sql if indicator_id_sql is not none else "'" ~ indicator_id ~ "'" }} as indicator_id,
        {{ metric_sql if metric_sql is not none else "'" ~ metric ~ "'" }} as metric,
        {{ as_of_date if as_of_date is not none else 'cast(null as date)' }} as as_of_date,
        {{ dimension if dimension is not none else null_string }} as dimension,
        {{ dimension_value if dimension_value is not none else null_string }} as dimension_value,
        {{ value }} as value,
        {{ numerator }} as numerator,
        {{ denominator }} as denominator,
        {{ threshold if threshold is not none else 'cast(null as ' ~ type_double() ~ ')' }} as threshold,
        {{ status }} as status,
        {{ evidence if evidence is not none else null_string }} as evidence
{%- endmacro %}

{#- A count (or plain amount) judged against one threshold parameter joined as `param` (join_threshold):
    value = numerator = the count, denominator 1, threshold = the parameter's value, status by
    threshold_status. The repeated shape of the FQ, AML, OPS and CRD count metrics. -#}
{% macro count_metric(indicator_id, metric, count, param, evidence=none, as_of_date=none, dimension=none,
                      dimension_value=none, enterprise_id='enterprise_id', period='period') -%}
    {{- indicator_row(indicator_id, metric, value=count, numerator=count, denominator='1',
                      threshold=param ~ '.value', status=threshold_status(count, param), evidence=evidence,
                      as_of_date=as_of_date, dimension=dimension, dimension_value=dimension_value,
                      enterprise_id=enterprise_id, period=period) -}}
{%- endmacro %}

{#- A number as text for messages and evidence, rounded to `digits` places. -#}
{% macro num_text(expr, digits=2) -%}
    case
        when {{ is_finite('cast(' ~ expr ~ ' as ' ~ type_double() ~ ')') }}
            then {{ adapter.dispatch('rounded_double_text')('cast(' ~ expr ~ ' as ' ~ type_double() ~ ')', digits) }}
        when {{ expr }} is not null then 'n/a'
    end
{%- endmacro %}
{#- A double rounded to `digits` places as DuckDB writes it: the shortest text that reads back the same
    double (12.5, 3.0, 0.0009; -0.0 when a negative value rounds to zero). Spark's cast writes 9.0E-4 and
    1.0E7 and its round drops the zero's sign, so it goes through a decimal with the trailing zeros dropped
    (one kept after the point). -#}
{% macro default__rounded_double_text(value, digits) -%}
    cast(round({{ value }}, {{ digits }}) as {{ dbt.type_string() }})
{%- endmacro %}
{% macro spark__rounded_double_text(value, digits) -%}
    case
        when round({{ value }}, {{ digits }}) = 0
            then case when {{ value }} < 0 or cast({{ value }} as string) = '-0.0' then '-0.0' else '0.0' end
        else regexp_replace(
            regexp_replace(
                cast(cast(round({{ value }}, {{ digits }}) as decimal(38, {{ [digits, 1] | max }})) as string), '0+$', ''
            ),
            '[.]$', '.0')
    end
{%- endmacro %}
