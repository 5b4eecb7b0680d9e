with

current_rows as (
    {{ current_version_rows('parties') }}
)

select * from current_rows
