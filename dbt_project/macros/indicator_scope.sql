{#- True when the indicators seed says `indicator_id` applies to the enterprise type `ent_type` (an SQL
    expression): its ent_types column is '*' or a space-separated list of types. -#}
{% macro indicator_applies(indicator_id, ent_type) -%}
    exists (
        select 1
        from {{ ref('indicators') }} as scope_indicators
        where scope_indicators.indicator_id = '{{ indicator_id }}'
            and (scope_indicators.ent_types = '*'
                 or ' ' || scope_indicators.ent_types || ' ' like '% ' || {{ ent_type }} || ' %')
    )
{%- endmacro %}
