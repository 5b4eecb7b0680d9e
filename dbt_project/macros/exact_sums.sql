{#- Floating sums that feed thresholds and screens must give the same bits on every run: DuckDB adds the
    rows of a parallel aggregation in whatever order its threads meet them, and double addition is not
    associative (the 16th digit moved between runs, and with it FLOW-002 / SEG-005 bounds and verdicts).
    Money is exact in DECIMAL: these macros do the sums there and only the result becomes a double. -#}

{#- sum(a * b) of two money amounts (2 decimals), exact, as a double. -#}
{% macro money_product_sum(a, b) -%}
    cast(sum(cast({{ a }} as decimal(38, 2)) * cast({{ b }} as decimal(38, 2))) as {{ type_double() }})
{%- endmacro %}

{#- A double, or null when it is NaN or infinite (DuckDB's 0.0 / 0.0 is NaN, not null): NaN must never
    reach a comparison, a median or an evidence text ("robust z -nan"). -#}
{% macro finite_or_null(expr) -%}
    case when {{ is_finite('cast(' ~ expr ~ ' as ' ~ type_double() ~ ')') }} then {{ expr }} end
{%- endmacro %}
