with

current_rows as (
    {{ current_version_rows('account_balances') }}
)

select * from current_rows
