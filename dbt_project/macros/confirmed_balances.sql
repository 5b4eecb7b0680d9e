{#- Per enterprise, period and Shanghai day, the bank-confirmed closings of the own accounts of the given
    classes, which RES-001, RES-002 and SEG-001 compare with derived customer totals: their sum
    (confirmed_total), the number of balance rows (balance_rows) and how many carry a bank_confirmed_closing
    (confirmed_rows; fewer than balance_rows makes the day INSUFFICIENT_DATA). -#}
{% macro confirmed_balances_daily(account_classes) -%}
    select
        balances.enterprise_id,
        balances.period,
        balances.biz_date,
        sum(balances.bank_confirmed_closing) as confirmed_total,
        count(*) as balance_rows,
        count(balances.bank_confirmed_closing) as confirmed_rows
    from {{ ref('stg_filings__account_balances') }} as balances
    inner join {{ ref('stg_filings__accounts') }} as accounts
        on balances.submission_id = accounts.submission_id
        and balances.account_id = accounts.account_id
    where accounts.account_class in ('{{ account_classes | join("', '") }}')
    group by 1, 2, 3
{%- endmacro %}
