-- RES-005 Reserve leakage (PAY, monthly): (bank legs debiting a RESERVE_* account that belong to no
-- customer-leg event and go to OWN_FUNDS, GUARANTEE or a related party with purpose <> fee, plus the fee
-- bank legs beyond the period's fee income = ok customer legs crediting OWN_FUNDS with purpose fee)
-- / reserve outflows (bank legs debiting a RESERVE_* account towards a non-reserve account or outside).
-- BREACH above max_leakage_share; evidence names the leaking txn ids.
{%- set indicator_id = 'RES-005' %}

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

transactions as (
    select * from {{ ref('stg_filings__transactions') }}
),

accounts as (
    select * from {{ ref('stg_filings__accounts') }}
),

parties as (
    select * from {{ ref('stg_filings__parties') }}
),

ok_legs as (
    select
        transactions.*,
        debit_accounts.account_class as debit_account_class,
        credit_accounts.account_class as credit_account_class
    from transactions
    left join accounts as debit_accounts
        on transactions.submission_id = debit_accounts.submission_id
        and transactions.debit_account_id = debit_accounts.account_id
    left join accounts as credit_accounts
        on transactions.submission_id = credit_accounts.submission_id
        and transactions.credit_account_id = credit_accounts.account_id
    where transactions.status = 'ok'
),

customer_events as (
    select distinct submission_id, event_id
    from ok_legs
    where leg = 'customer'
),

reserve_outflows as (
    select
        ok_legs.submission_id,
        ok_legs.txn_id,
        ok_legs.purpose,
        ok_legs.amount_cny,
        ok_legs.credit_account_class,
        customer_events.event_id is not null as has_customer_leg,
        coalesce(payees.is_related_party, false) as to_related_party
    from ok_legs
    left join customer_events
        on ok_legs.submission_id = customer_events.submission_id
        and ok_legs.event_id = customer_events.event_id
    left join parties as payees
        on ok_legs.submission_id = payees.submission_id
        and ok_legs.payee_party_id = payees.party_id
    where ok_legs.leg = 'bank'
        and ok_legs.debit_account_class in ('RESERVE_CENTRAL', 'RESERVE_BANK')
        and coalesce(ok_legs.credit_account_class, '') not in ('RESERVE_CENTRAL', 'RESERVE_BANK')
),

fee_income as (
    select submission_id, sum(amount_cny) as fee_income
    from ok_legs
    where leg = 'customer'
        and credit_account_class = 'OWN_FUNDS'
        and purpose = 'fee'
    group by 1
),

per_submission as (
    select
        submission_id,
        sum(amount_cny) as outflow,
        sum(case when purpose = 'fee' then amount_cny else 0 end) as fee_transfers,
        sum(case when leaked then amount_cny else 0 end) as leaked,
        {{ dbt.listagg("case when leaked then txn_id end", "', '", "order by txn_id") }} as leaked_txns
    from (
        select
            *,
            not has_customer_leg
            and purpose <> 'fee'
            and (credit_account_class in ('OWN_FUNDS', 'GUARANTEE') or to_related_party) as leaked
        from reserve_outflows
    ) as flagged
    group by 1
),

measured as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.ent_type,
        enterprise_periods.period_end,
        coalesce(per_submission.outflow, 0) as outflow,
        coalesce(per_submission.leaked, 0) as leaked,
        greatest(coalesce(per_submission.fee_transfers, 0) - coalesce(fee_income.fee_income, 0), 0) as excess_fees,
        per_submission.leaked_txns
    from enterprise_periods
    left join per_submission
        on enterprise_periods.submission_id = per_submission.submission_id
    left join fee_income
        on enterprise_periods.submission_id = fee_income.submission_id
    where enterprise_periods.ent_type = 'PAY'
),

scored as (
    {%- set row_value %}
        cast(measured.leaked + measured.excess_fees as {{ type_double() }}) / nullif(measured.outflow, 0)
    {%- endset %}
    {%- set row_status %}
        case
            when measured.outflow = 0 then 'NOT_APPLICABLE'
            else {{ threshold_status('cast(measured.leaked + measured.excess_fees as ' ~ type_double() ~ ') / measured.outflow', 'max_share') }}
        end
    {%- endset %}
    {%- set row_evidence %}
        nullif(
            case when measured.leaked > 0 then 'leaking bank legs: ' || measured.leaked_txns else '' end
            || case
                when measured.excess_fees > 0
                    then case when measured.leaked > 0 then '; ' else '' end
                    || 'fee transfers exceed fee income by ' || {{ num_text('measured.excess_fees') }}
                else ''
            end,
            ''
        )
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'leakage_share', value=row_value,
                         numerator='measured.leaked + measured.excess_fees', denominator='measured.outflow',
                         status=row_status, threshold='max_share.value', evidence=row_evidence,
                         enterprise_id='measured.enterprise_id', period='measured.period') }}
    from measured
    {{ join_threshold(
        'max_leakage_share',
        alias='max_share',
        indicator=indicator_id,
        ent_type='measured.ent_type',
        on_date='measured.period_end'
    ) }}
)

{{ indicator_rows('scored') }}
