{#- The combination of `combination_of_columns` is unique over the model (nulls compare equal, as in
    GROUP BY). The project's own version of the dbt_utils test, which cannot be installed here. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with

duplicates as (
    select
        {{ combination_of_columns | join(',\n        ') }},
        count(*) as n_rows
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
)

select * from duplicates

{% endtest %}
