{#- A staging model of the filings holds one row per contract key of its filing type within a
    submission (and one current submission per enterprise x period). The key comes from the contract,
    through the generated source's meta, so it is never typed twice. -#}
{% test unique_filing_key(model, filing_type) %}

{%- set key = [] -%}
{%- if execute -%}
    {%- set src = graph.sources.get('source.' ~ project_name ~ '.raw.' ~ filing_type) -%}
    {%- if src is none -%}
        {{ exceptions.raise_compiler_error("unique_filing_key: no source raw." ~ filing_type) }}
    {%- endif -%}
    {%- set key = (src.get('config', {}).get('meta') or src.get('meta') or {}).get('key', []) -%}
{%- endif -%}
{%- set columns = ['submission_id'] + key -%}

with

duplicates as (
    select
        {{ columns | join(',\n        ') }},
        count(*) as n_rows
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
)

select * from duplicates

{% endtest %}
