with

current_rows as (
    {{ current_version_rows('enterprise_profile') }}
)

select * from current_rows
