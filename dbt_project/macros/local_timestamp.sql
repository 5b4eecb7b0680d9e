{#- The wall-clock timestamp (no time zone) of a UTC instant in the business time zone, for interval
    arithmetic on Shanghai days and hours (outage gaps, busy hours). -#}
{% macro local_timestamp(ts, tz=none) -%}
    {{ return(adapter.dispatch('local_timestamp')(ts, tz or var('business_timezone'))) }}
{%- endmacro %}
{% macro default__local_timestamp(ts, tz) -%}
    timezone('{{ tz }}', {{ ts }})
{%- endmacro %}
{% macro spark__local_timestamp(ts, tz) -%}
    from_utc_timestamp({{ ts }}, '{{ tz }}')
{%- endmacro %}

{#- Minutes between two timestamps, to the second. -#}
{% macro minutes_between(start_ts, end_ts) -%}
    ({{ dbt.datediff(start_ts, end_ts, 'second') }} / 60.0)
{%- endmacro %}
