with

current_rows as (
    {{ current_version_rows('investments') }}
)

select * from current_rows
