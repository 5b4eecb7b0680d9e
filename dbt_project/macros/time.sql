{#- The warehouse clock and the calendar arithmetic of the spec (Asia/Shanghai days, YYYY-MM periods).
    Every model reads "now" through as_of_timestamp(), never the wall clock. -#}

{% macro as_of_timestamp() -%}
    {%- set as_of = var('as_of', none) -%}
    {%- if as_of is none -%}
        {%- if execute -%}
            {{ exceptions.raise_compiler_error(
                "var 'as_of' is required (the warehouse clock, an ISO 8601 UTC timestamp): "
                ~ "dbt build --vars '{as_of: \"2026-12-01T00:00:00+00:00\"}'") }}
        {%- endif -%}
        {%- set as_of = '1970-01-01T00:00:00+00:00' -%}
    {%- endif -%}
    cast('{{ as_of }}' as {{ type_timestamptz() }})
{%- endmacro %}

{% macro type_timestamptz() -%}
    {{ return(adapter.dispatch('type_timestamptz')()) }}
{%- endmacro %}
{% macro default__type_timestamptz() -%}timestamp with time zone{%- endmacro %}
{% macro spark__type_timestamptz() -%}timestamp{%- endmacro %}

{#- The calendar date of a UTC instant in the business time zone. -#}
{% macro local_date(ts, tz=none) -%}
    {{ return(adapter.dispatch('local_date')(ts, tz or var('business_timezone'))) }}
{%- endmacro %}
{% macro default__local_date(ts, tz) -%}
    cast(timezone('{{ tz }}', {{ ts }}) as date)
{%- endmacro %}
{% macro spark__local_date(ts, tz) -%}
    to_date(from_utc_timestamp({{ ts }}, '{{ tz }}'))
{%- endmacro %}

{#- The instant of a wall-clock timestamp (no time zone) read in time zone `tz` (an SQL expression). -#}
{% macro local_to_instant(local_ts, tz) -%}
    {{ return(adapter.dispatch('local_to_instant')(local_ts, tz)) }}
{%- endmacro %}
{% macro default__local_to_instant(local_ts, tz) -%}
    timezone({{ tz }}, {{ local_ts }})
{%- endmacro %}
{% macro spark__local_to_instant(local_ts, tz) -%}
    to_utc_timestamp({{ local_ts }}, {{ tz }})
{%- endmacro %}

{#- An instant shown as 'YYYY-MM-DD HH:MM:SS' in the business time zone (for messages and evidence). -#}
{% macro local_timestamp_text(ts, tz=none) -%}
    {{ return(adapter.dispatch('local_timestamp_text')(ts, tz or var('business_timezone'))) }}
{%- endmacro %}
{% macro default__local_timestamp_text(ts, tz) -%}
    strftime(timezone('{{ tz }}', {{ ts }}), '%Y-%m-%d %H:%M:%S')
{%- endmacro %}
{% macro spark__local_timestamp_text(ts, tz) -%}
    date_format(from_utc_timestamp({{ ts }}, '{{ tz }}'), 'yyyy-MM-dd HH:mm:ss')
{%- endmacro %}

{#- Periods are calendar months written YYYY-MM. -#}
{#- The first day of a period; null when the text is not a YYYY-MM month (a malformed manifest). -#}
{% macro period_start(period) -%}
    {{ try_cast(period ~ " || '-01'", 'date') }}
{%- endmacro %}

{% macro period_end(period) -%}
    cast({{ dbt.last_day(period_start(period), 'month') }} as date)
{%- endmacro %}

{#- Months since year 0: consecutive periods differ by 1. -#}
{% macro period_index(period) -%}
    (cast(substr({{ period }}, 1, 4) as integer) * 12 + cast(substr({{ period }}, 6, 2) as integer))
{%- endmacro %}

{% macro period_of(date_expr) -%}
    {{ return(adapter.dispatch('period_of')(date_expr)) }}
{%- endmacro %}
{% macro default__period_of(date_expr) -%}
    strftime({{ date_expr }}, '%Y-%m')
{%- endmacro %}
{% macro spark__period_of(date_expr) -%}
    date_format({{ date_expr }}, 'yyyy-MM')
{%- endmacro %}

{#- The enterprise type is the enterprise_id without its four digits (filings.md). -#}
{% macro ent_type_of(enterprise_id) -%}
    substr({{ enterprise_id }}, 1, length({{ enterprise_id }}) - 4)
{%- endmacro %}

{#- cast that yields null instead of failing where the engine can (dbt.safe_cast elsewhere). -#}
{% macro try_cast(expr, type) -%}
    {{ return(adapter.dispatch('try_cast')(expr, type)) }}
{%- endmacro %}
{% macro default__try_cast(expr, type) -%}
    {{ dbt.safe_cast(expr, type) }}
{%- endmacro %}
{% macro duckdb__try_cast(expr, type) -%}
    try_cast({{ expr }} as {{ type }})
{%- endmacro %}
