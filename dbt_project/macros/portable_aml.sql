{#- The AML models' spellings that differ between DuckDB and Spark SQL, as in portable.sql: a default__
    (DuckDB, the SQL the models had) and a spark__ implementation computing the same value. -#}

{#- A list (array) of the given SQL expressions, in that order. -#}
{% macro aml_list(items) -%}
    {{ return(adapter.dispatch('aml_list')(items)) }}
{%- endmacro %}
{% macro default__aml_list(items) -%}
    [{{ items | join(', ') }}]
{%- endmacro %}
{% macro spark__aml_list(items) -%}
    array({{ items | join(', ') }})
{%- endmacro %}

{#- The list `list_expr` with `item` appended. -#}
{% macro aml_list_append(list_expr, item) -%}
    {{ return(adapter.dispatch('aml_list_append')(list_expr, item)) }}
{%- endmacro %}
{% macro default__aml_list_append(list_expr, item) -%}
    list_append({{ list_expr }}, {{ item }})
{%- endmacro %}
{% macro spark__aml_list_append(list_expr, item) -%}
    concat({{ list_expr }}, array({{ item }}))
{%- endmacro %}

{#- True when the list `list_expr` holds `item`. -#}
{% macro aml_list_contains(list_expr, item) -%}
    {{ return(adapter.dispatch('aml_list_contains')(list_expr, item)) }}
{%- endmacro %}
{% macro default__aml_list_contains(list_expr, item) -%}
    list_contains({{ list_expr }}, {{ item }})
{%- endmacro %}
{% macro spark__aml_list_contains(list_expr, item) -%}
    array_contains({{ list_expr }}, {{ item }})
{%- endmacro %}

{#- The text items of a list joined by `sep` (a string literal). -#}
{% macro aml_list_join(list_expr, sep) -%}
    {{ return(adapter.dispatch('aml_list_join')(list_expr, sep)) }}
{%- endmacro %}
{% macro default__aml_list_join(list_expr, sep) -%}
    array_to_string({{ list_expr }}, {{ sep }})
{%- endmacro %}
{% macro spark__aml_list_join(list_expr, sep) -%}
    array_join({{ list_expr }}, {{ sep }})
{%- endmacro %}

{#- True when `word` is one of the words of the space-separated text `words`. -#}
{% macro aml_word_in(words, word) -%}
    {{ return(adapter.dispatch('aml_word_in')(words, word)) }}
{%- endmacro %}
{% macro default__aml_word_in(words, word) -%}
    list_contains(string_split({{ words }}, ' '), {{ word }})
{%- endmacro %}
{% macro spark__aml_word_in(words, word) -%}
    array_contains(split({{ words }}, ' '), {{ word }})
{%- endmacro %}

{#- A join clause giving one row per item of the list `list_expr` of the rows before it, as
    `alias`.`column`. -#}
{% macro aml_cross_join_unnest(list_expr, alias, column) -%}
    {{ return(adapter.dispatch('aml_cross_join_unnest')(list_expr, alias, column)) }}
{%- endmacro %}
{% macro default__aml_cross_join_unnest(list_expr, alias, column) -%}
    cross join unnest({{ list_expr }}) as {{ alias }} ({{ column }})
{%- endmacro %}
{% macro spark__aml_cross_join_unnest(list_expr, alias, column) -%}
    cross join lateral explode({{ list_expr }}) as {{ alias }} ({{ column }})
{%- endmacro %}

{#- Moving windows whose width is a column (a threshold per enterprise type and period). DuckDB takes the
    offset of a RANGE frame from an expression; Spark wants a literal there, so its variant joins each row
    to the rows of its partition inside the same bounds and aggregates them (`group by all` over the row's
    own columns: the rows of `rel` are distinct).
    aml_range_window(rel, select_extra, aggregates, partition_by, order_by, lower, upper, joins):
      rel           the relation (CTE name) the window runs over, also the alias of the current row;
      select_extra  extra columns of the current row (list of SQL expressions, from `joins`);
      aggregates    list of (name, aggregate function, argument SQL written over `rel`'s columns
                    qualified with `rel`): e.g. ('moved_in', 'sum', 'case when rel.x ... end');
                    aggregate 'count_distinct' is count(distinct ...); 'last' is last_value (the value of
                    the last row of the frame in the order `order_by`, then `tiebreak`);
      partition_by  list of column names of `rel`;
      order_by      one numeric column name of `rel`;
      lower, upper  SQL of the frame's width before / after the current row (null = current row);
      joins         SQL appended after `from rel` (joins providing the widths), may be empty;
      tiebreak      list of columns ordering the peers of the frame's last row (Spark's 'last' only).
    In the aggregate arguments write the row's columns as `{rel}.col`; on Spark they are read from the
    frame's row (alias `frame_row`). -#}
{% macro aml_range_window(rel, select_extra, aggregates, partition_by, order_by, lower, upper, joins, tiebreak=[]) -%}
    {{ return(adapter.dispatch('aml_range_window')(rel, select_extra, aggregates, partition_by, order_by, lower, upper, joins, tiebreak)) }}
{%- endmacro %}
{% macro default__aml_range_window(rel, select_extra, aggregates, partition_by, order_by, lower, upper, joins, tiebreak) -%}
    select
        {{ rel }}.*,
        {%- for col in select_extra %}
        {{ col }},
        {%- endfor %}
        {%- for name, fn, arg in aggregates %}
        {%- if fn == 'count_distinct' %}
        count(distinct {{ arg }}) over aml_frame as {{ name }}
        {%- elif fn == 'last' %}
        last_value({{ arg }}) over aml_frame as {{ name }}
        {%- else %}
        {{ fn }}({{ arg }}) over aml_frame as {{ name }}
        {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ rel }}
    {{ joins }}
    window aml_frame as (
        partition by {% for col in partition_by %}{{ rel }}.{{ col }}{{ ', ' if not loop.last }}{% endfor %}
        order by {{ rel }}.{{ order_by }}
        range between {{ (lower ~ ' preceding') if lower is not none else 'current row' }}
        and {{ (upper ~ ' following') if upper is not none else 'current row' }}
    )
{%- endmacro %}
{% macro spark__aml_range_window(rel, select_extra, aggregates, partition_by, order_by, lower, upper, joins, tiebreak) -%}
    {%- set order_cols = [order_by] + tiebreak -%}
    select
        {{ rel }}.*,
        {%- for col in select_extra %}
        {{ col }},
        {%- endfor %}
        {%- for name, fn, arg in aggregates %}
        {%- set frame_arg = arg | replace(rel ~ '.', 'frame_row.') %}
        {%- if fn == 'count_distinct' %}
        count(distinct {{ frame_arg }}) as {{ name }}
        {%- elif fn == 'last' %}
        max_by({{ frame_arg }}, struct(
            {%- for col in order_cols %}frame_row.{{ col }}{{ ', ' if not loop.last }}{% endfor %})) as {{ name }}
        {%- else %}
        {{ fn }}({{ frame_arg }}) as {{ name }}
        {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ rel }}
    {{ joins }}
    inner join {{ rel }} as frame_row
        on {% for col in partition_by %}frame_row.{{ col }} = {{ rel }}.{{ col }}
        and {% endfor -%}
        frame_row.{{ order_by }} >= {{ rel }}.{{ order_by }}{{ (' - ' ~ lower) if lower is not none }}
        and frame_row.{{ order_by }} <= {{ rel }}.{{ order_by }}{{ (' + ' ~ upper) if upper is not none }}
    group by all
{%- endmacro %}

{#- The distinct text values of `expr` sorted and joined by `sep` (null when there are none). Spark fails
    to plan string_agg(distinct ...) within group next to other distinct aggregates of the same query
    (a ClassCastException in its distinct-aggregate rewrite), so it sorts the set of values instead. -#}
{% macro aml_string_agg_distinct_sorted(expr, sep) -%}
    {{ return(adapter.dispatch('aml_string_agg_distinct_sorted')(expr, sep)) }}
{%- endmacro %}
{% macro default__aml_string_agg_distinct_sorted(expr, sep) -%}
    string_agg(distinct {{ expr }}, {{ sep }} order by {{ expr }})
{%- endmacro %}
{% macro spark__aml_string_agg_distinct_sorted(expr, sep) -%}
    case when count({{ expr }}) > 0 then array_join(array_sort(collect_set({{ expr }})), {{ sep }}) end
{%- endmacro %}
