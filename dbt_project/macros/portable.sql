{#- Where DuckDB and Spark SQL spell the same thing differently: one macro each, a default__ (DuckDB) and a
    spark__ implementation that compute the same value (`make parity` builds the project on both and
    compares the marts). Use these in models instead of the engine's own spelling. -#}

{#- True when a double is neither NaN nor infinite (null stays null). Spark's non-ANSI division by zero
    already yields null; DuckDB's 0.0 / 0.0 is NaN. -#}
{% macro is_finite(expr) -%}
    {{ return(adapter.dispatch('is_finite')(expr)) }}
{%- endmacro %}
{% macro default__is_finite(expr) -%}
    isfinite({{ expr }})
{%- endmacro %}
{% macro spark__is_finite(expr) -%}
    (not isnan({{ expr }}) and abs({{ expr }}) != double('infinity'))
{%- endmacro %}

{#- ISO day of week of a date: Monday 1 ... Sunday 7. -#}
{% macro iso_dow(date_expr) -%}
    {{ return(adapter.dispatch('iso_dow')(date_expr)) }}
{%- endmacro %}
{% macro default__iso_dow(date_expr) -%}
    extract(isodow from {{ date_expr }})
{%- endmacro %}
{% macro spark__iso_dow(date_expr) -%}
    (weekday({{ date_expr }}) + 1)
{%- endmacro %}

{#- Seconds since 1970-01-01 UTC of an instant, as a double (fractions kept). -#}
{% macro epoch_seconds(ts) -%}
    {{ return(adapter.dispatch('epoch_seconds')(ts)) }}
{%- endmacro %}
{% macro default__epoch_seconds(ts) -%}
    epoch({{ ts }})
{%- endmacro %}
{% macro spark__epoch_seconds(ts) -%}
    (cast(unix_micros({{ ts }}) as double) / 1000000)
{%- endmacro %}

{#- The text values of `expr` joined by `sep` in the order of `order_by` (distinct: each value once). -#}
{% macro string_agg_ordered(expr, sep, order_by, distinct=false) -%}
    {{ return(adapter.dispatch('string_agg_ordered')(expr, sep, order_by, distinct)) }}
{%- endmacro %}
{% macro default__string_agg_ordered(expr, sep, order_by, distinct) -%}
    string_agg({{ 'distinct ' if distinct }}{{ expr }}, {{ sep }} order by {{ order_by }})
{%- endmacro %}
{% macro spark__string_agg_ordered(expr, sep, order_by, distinct) -%}
    string_agg({{ 'distinct ' if distinct }}{{ expr }}, {{ sep }}) within group (order by {{ order_by }})
{%- endmacro %}

{#- The instant `days` whole days (an integer expression) before / after `ts`. -#}
{% macro add_days(ts, days) -%}
    {{ return(adapter.dispatch('add_days')(ts, days)) }}
{%- endmacro %}
{% macro default__add_days(ts, days) -%}
    ({{ ts }} + to_days(cast({{ days }} as integer)))
{%- endmacro %}
{% macro spark__add_days(ts, days) -%}
    ({{ ts }} + make_interval(0, 0, 0, cast({{ days }} as integer)))
{%- endmacro %}

{#- Text of a date or timestamp in a strftime-style format given as a Java pattern too:
    format_date(expr, '%Y-%m-%d', 'yyyy-MM-dd'). -#}
{% macro format_date(expr, strftime_format, java_format) -%}
    {{ return(adapter.dispatch('format_date')(expr, strftime_format, java_format)) }}
{%- endmacro %}
{% macro default__format_date(expr, strftime_format, java_format) -%}
    strftime({{ expr }}, '{{ strftime_format }}')
{%- endmacro %}
{% macro spark__format_date(expr, strftime_format, java_format) -%}
    date_format({{ expr }}, '{{ java_format }}')
{%- endmacro %}

{#- The text value of the entry named `name` in a quality finding's `fields`, a JSON array of
    {"field": ..., "value": ...} objects (quality.findings). -#}
{% macro finding_field(fields_expr, name) -%}
    {{ return(adapter.dispatch('finding_field')(fields_expr, name)) }}
{%- endmacro %}
{% macro default__finding_field(fields_expr, name) -%}
    list_filter(
        from_json({{ fields_expr }}, '[{"field": "VARCHAR", "value": "VARCHAR"}]'), lambda f: f.field = '{{ name }}'
    )[1].value
{%- endmacro %}
{% macro spark__finding_field(fields_expr, name) -%}
    filter(from_json({{ fields_expr }}, 'array<struct<field: string, value: string>>'), f -> f.field = '{{ name }}')[0].value
{%- endmacro %}

{#- One row per key of a JSON object (in a select list: the row is repeated per key). -#}
{% macro json_object_keys_rows(json_expr) -%}
    {{ return(adapter.dispatch('json_object_keys_rows')(json_expr)) }}
{%- endmacro %}
{% macro default__json_object_keys_rows(json_expr) -%}
    unnest(json_keys({{ json_expr }}))
{%- endmacro %}
{% macro spark__json_object_keys_rows(json_expr) -%}
    explode(json_object_keys({{ json_expr }}))
{%- endmacro %}

{#- The text value of `key` (an SQL expression) of a JSON object. -#}
{% macro json_text(json_expr, key) -%}
    {{ return(adapter.dispatch('json_text')(json_expr, key)) }}
{%- endmacro %}
{% macro default__json_text(json_expr, key) -%}
    json_extract_string({{ json_expr }}, {{ key }})
{%- endmacro %}
{% macro spark__json_text(json_expr, key) -%}
    get_json_object({{ json_expr }}, concat('$.', {{ key }}))
{%- endmacro %}

{#- The value of `value_expr` on the row where `order_expr` is largest; `order_expr` may be a list of
    expressions, later ones breaking ties of the earlier (give enough for one row to win: with ties left
    the engine picks any, and the same data could give other bits). -#}
{% macro arg_max(value_expr, order_expr) -%}
    {{ return(adapter.dispatch('arg_max')(value_expr, order_expr)) }}
{%- endmacro %}
{% macro default__arg_max(value_expr, order_expr) -%}
    {%- if order_expr is string %}
    arg_max({{ value_expr }}, {{ order_expr }})
    {%- else %}
    arg_max({{ value_expr }}, row({{ order_expr | join(', ') }}))
    {%- endif %}
{%- endmacro %}
{% macro spark__arg_max(value_expr, order_expr) -%}
    {%- if order_expr is string %}
    max_by({{ value_expr }}, {{ order_expr }})
    {%- else %}
    max_by({{ value_expr }}, struct({{ order_expr | join(', ') }}))
    {%- endif %}
{%- endmacro %}

{#- dbt.listagg on Spark: dbt-spark 1.11 drops the order (collect_list, with a warning); this keeps it, as
    DuckDB's string_agg(... order by ...) does. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if measure.strip().lower().startswith('distinct ') -%}
        {#- Spark 4.3 fails on DISTINCT with WITHIN GROUP over a column (ClassCastException); the distinct
            values sorted ascending, as the callers order them (by the measure itself) -#}
        {{ return('nullif(array_join(array_sort(collect_set(' ~ measure.strip()[9:] ~ ')), ' ~ delimiter_text ~ "), '')") }}
    {%- endif -%}
    {%- set joined -%}
        string_agg({{ measure }}, {{ delimiter_text if not limit_num else 'chr(1)' }})
        {%- if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
    {%- endset -%}
    {%- if limit_num -%}
        {#- the first limit_num values (the measures here never hold the control character U+0001) -#}
        array_join(slice(split({{ joined }}, chr(1)), 1, {{ limit_num }}), {{ delimiter_text }})
    {%- else -%}
        {{ joined }}
    {%- endif -%}
{%- endmacro %}

{#- The sum of a double in the order of `order_by` (an expression): the same bits on every run, where a
    parallel sum's order varies. Null when every value is null, as sum() is. -#}
{% macro ordered_sum(expr, order_by) -%}
    {{ return(adapter.dispatch('ordered_sum')(expr, order_by)) }}
{%- endmacro %}
{% macro default__ordered_sum(expr, order_by) -%}
    sum({{ expr }} order by {{ order_by }})
{%- endmacro %}
{% macro spark__ordered_sum(expr, order_by) -%}
    aggregate(
        transform(array_sort(collect_list(struct({{ order_by }} as k, {{ expr }} as v))), s -> s.v),
        cast(null as double),
        (acc, x) -> case when x is null then acc else coalesce(acc, 0D) + x end
    )
{%- endmacro %}

{#- dbt.listagg with a limit on DuckDB: dbt-duckdb 1.11 slices the first limit_num rows before dropping
    nulls, so a `case when ... end` measure lists only the matches among the first rows (often none); the
    first limit_num non-null values instead, as the Spark implementation above gives. -#}
{% macro duckdb__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        array_to_string(
            (array_agg({{ measure }} {{ order_by_clause }}) filter (where ({{ measure }}) is not null))[1:{{ limit_num }}],
            {{ delimiter_text }}
        )
    {%- else -%}
        string_agg({{ measure }}, {{ delimiter_text }} {{ order_by_clause }})
    {%- endif -%}
{%- endmacro %}

{#- dbt.dateadd on Spark: dbt-spark 1.11 multiplies the interval unparenthesized (`n - 1 * 3600` seconds for
    dateadd('hour', 'n - 1', ...)), which put OPS-003's busy hours at the wrong instants on Spark (no
    hidden outage found at `small`). The same macro with the interval in parentheses. -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {%- set clock_component -%}
        to_unix_timestamp({{ assert_not_null('to_timestamp', from_date_or_timestamp) }})
        - to_unix_timestamp({{ assert_not_null('date', from_date_or_timestamp) }})
    {%- endset -%}
    {%- if datepart in ['day', 'week'] -%}
        to_timestamp(
            to_unix_timestamp(
                date_add(
                    {{ assert_not_null('date', from_date_or_timestamp) }},
                    cast(({{ interval }}) * {{ 7 if datepart == 'week' else 1 }} as int)
                )
            ) + {{ clock_component }}
        )
    {%- elif datepart in ['month', 'quarter', 'year'] -%}
        to_timestamp(
            to_unix_timestamp(
                add_months(
                    {{ assert_not_null('date', from_date_or_timestamp) }},
                    cast(({{ interval }}) * {{ {'month': 1, 'quarter': 3, 'year': 12}[datepart] }} as int)
                )
            ) + {{ clock_component }}
        )
    {%- elif datepart in ['hour', 'minute', 'second'] -%}
        to_timestamp(
            {{ assert_not_null('to_unix_timestamp', from_date_or_timestamp) }}
            + cast(({{ interval }}) * {{ {'hour': 3600, 'minute': 60, 'second': 1}[datepart] }} as int)
        )
    {%- else -%}
        {{ exceptions.raise_compiler_error("dateadd is not implemented for datepart '" ~ datepart ~ "' on Spark") }}
    {%- endif -%}
{%- endmacro %}
