{#- Models land in the schema their folder configures (staging, intermediate, marts, seeds), not in
    "<target schema>_<custom schema>": the warehouse's schema names are a public interface. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
