{#- Thresholds live in the seed `thresholds` only (indicators.md conventions). Models join the row of a
    parameter that is valid on a given day through join_threshold() and test a value against it with
    compare(), which applies the seed's own comparison. No threshold literal appears in the SQL. -#}

{#- A left join of int_thresholds_resolved as `alias` (default: the param name) for one parameter of one
    indicator, for the enterprise type and the day given (SQL expressions). Pass the indicator either as
    a literal id (indicator='RES-001') or as a column (indicator_column='scored.indicator_id'). Daily
    indicators pass their day, monthly ones the period's last day; valid_to is exclusive. -#}
{% macro join_threshold(param, ent_type, on_date, indicator=none, indicator_column=none, alias=none) -%}
    {%- set alias = alias or param -%}
    {%- if indicator_column is none and indicator is none -%}
        {{ exceptions.raise_compiler_error("join_threshold(" ~ param ~ "): give indicator or indicator_column") }}
    {%- endif -%}
    {%- set indicator_sql = indicator_column if indicator_column is not none else "'" ~ indicator ~ "'" -%}
    left join {{ ref('int_thresholds_resolved') }} as {{ alias }}
        on {{ alias }}.indicator_id = {{ indicator_sql }}
        and {{ alias }}.param = '{{ param }}'
        and {{ alias }}.ent_type = {{ ent_type }}
        and {{ alias }}.valid_from <= {{ on_date }}
        and {{ on_date }} < {{ alias }}.valid_to
{%- endmacro %}

{#- True when `value` stands in the seed row's comparison to its threshold (`threshold`, by default the
    row's value); null when the parameter has no row or the value is null. -#}
{% macro compare(value, alias, threshold=none) -%}
    {{ compare_with(value, alias ~ '.comparison', threshold if threshold is not none else alias ~ '.value') }}
{%- endmacro %}

{#- `value` <comparison> `threshold`, the comparison being an SQL expression that yields <, <=, > or >=. -#}
{% macro compare_with(value, comparison, threshold) -%}
    (case {{ comparison }}
        when '<' then {{ value }} < {{ threshold }}
        when '<=' then {{ value }} <= {{ threshold }}
        when '>' then {{ value }} > {{ threshold }}
        when '>=' then {{ value }} >= {{ threshold }}
    end)
{%- endmacro %}

{#- The status of a value screened against one threshold row: the row's severity when it fires,
    OK when it does not, INFO when no threshold is configured (descriptive only). -#}
{% macro threshold_status(value, alias, threshold=none) -%}
    case
        when {{ alias }}.value is null then 'INFO'
        when {{ compare(value, alias, threshold) }} then {{ alias }}.severity
        else 'OK'
    end
{%- endmacro %}
