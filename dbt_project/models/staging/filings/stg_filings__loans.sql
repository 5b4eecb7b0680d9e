with

current_rows as (
    {{ current_version_rows('loans') }}
)

select * from current_rows
