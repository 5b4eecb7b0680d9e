with

current_rows as (
    {{ current_version_rows('aml_reports') }}
)

select * from current_rows
