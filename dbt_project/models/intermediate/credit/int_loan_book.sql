-- The loan snapshots of the current versions (P2P, CF), one row per enterprise x period x loan, with the
-- borrower's party type, id_hash and flags from the same version's parties and the overdue bucket of
-- indicators.md CRD-001: days_past_due 1-30 M1, 31-60 M2, 61-90 M3, > 90 M3+ (null when current).

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

loans as (
    select * from {{ ref('stg_filings__loans') }}
),

parties as (
    select * from {{ ref('stg_filings__parties') }}
),

final as (
    select
        loans.enterprise_id,
        loans.period,
        enterprise_periods.ent_type,
        enterprise_periods.period_start,
        enterprise_periods.period_end,
        {{ period_index('loans.period') }} as period_index,
        loans.loan_id,
        loans.borrower_party_id,
        borrowers.party_type as borrower_party_type,
        borrowers.id_hash as borrower_id_hash,
        coalesce(borrowers.dishonest_flag, false) as borrower_dishonest,
        loans.contract_principal,
        loans.disbursed_amount,
        loans.origination_date,
        loans.maturity_date,
        loans.apr_comprehensive,
        loans.outstanding_principal,
        loans.days_past_due,
        case
            when loans.days_past_due > 90 then 'M3+'
            when loans.days_past_due > 60 then 'M3'
            when loans.days_past_due > 30 then 'M2'
            when loans.days_past_due > 0 then 'M1'
        end as overdue_bucket,
        loans.written_off_in_period,
        loans.written_off_amount,
        loans.recovered_in_period,
        loans.status,
        loans.credit_reported,
        loans.origination_date between enterprise_periods.period_start and enterprise_periods.period_end
            as originated_in_period
    from loans
    inner join enterprise_periods
        on loans.submission_id = enterprise_periods.submission_id
    left join parties as borrowers
        on loans.submission_id = borrowers.submission_id
        and loans.borrower_party_id = borrowers.party_id
)

select * from final
