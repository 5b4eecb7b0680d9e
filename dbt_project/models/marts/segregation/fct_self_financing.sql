-- SEG-003 Self-financing share (P2P, CF, monthly): outstanding_principal of the period-end loan snapshot
-- owed by related-party borrowers / total outstanding_principal. BREACH above max_share; evidence names
-- the loans.
{%- set indicator_id = 'SEG-003' %}

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

loan_book as (
    select
        loans.submission_id,
        loans.loan_id,
        loans.outstanding_principal,
        coalesce(borrowers.is_related_party, false) as to_related_party
    from loans
    left join parties as borrowers
        on loans.submission_id = borrowers.submission_id
        and loans.borrower_party_id = borrowers.party_id
),

measured as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.ent_type,
        enterprise_periods.period_end,
        coalesce(sum(loan_book.outstanding_principal), 0) as outstanding,
        coalesce(sum(case when loan_book.to_related_party then loan_book.outstanding_principal end), 0) as related_outstanding,
        {{ dbt.listagg(
            "case when loan_book.to_related_party and loan_book.outstanding_principal > 0 then loan_book.loan_id end",
            "', '",
            "order by loan_book.loan_id"
        ) }} as related_loans
    from enterprise_periods
    left join loan_book
        on enterprise_periods.submission_id = loan_book.submission_id
    where enterprise_periods.ent_type in ('P2P', 'CF')
    group by 1, 2, 3, 4
),

scored as (
    {%- set row_value %}
        cast(measured.related_outstanding as {{ type_double() }}) / nullif(measured.outstanding, 0)
    {%- endset %}
    {%- set row_status %}
        case
            when measured.outstanding = 0 then 'NOT_APPLICABLE'
            else {{ threshold_status('cast(measured.related_outstanding as ' ~ type_double() ~ ') / measured.outstanding', 'max_share') }}
        end
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'related_outstanding_share', value=row_value,
                         numerator='measured.related_outstanding', denominator='measured.outstanding',
                         status=row_status, threshold='max_share.value',
                         evidence="case when measured.related_outstanding > 0 then 'loans to related parties: ' || measured.related_loans end",
                         enterprise_id='measured.enterprise_id', period='measured.period') }}
    from measured
    {{ join_threshold('max_share', indicator=indicator_id, ent_type='measured.ent_type', on_date='measured.period_end') }}
)

{{ indicator_rows('scored') }}
