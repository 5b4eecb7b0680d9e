with

current_rows as (
    {{ current_version_rows('accounts') }}
)

select * from current_rows
