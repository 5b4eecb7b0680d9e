with

current_rows as (
    {{ current_version_rows('liquidity') }}
)

select * from current_rows
