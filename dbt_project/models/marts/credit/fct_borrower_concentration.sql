-- CRD-004 Borrower concentration (P2P, CF; monthly), from int_loan_book: borrowers' outstanding
-- principal summed per borrower_party_id at period end. top1_share (INFO) and top10_share = the largest
-- one and ten borrowers' outstanding / total outstanding; top10_share WARNs above max_top10_share with at
-- least min_borrowers borrowers (INSUFFICIENT_DATA with fewer); borrowers (INFO) is the count.
-- NOT_APPLICABLE without outstanding principal.
{%- set indicator_id = 'CRD-004' %}

with

loan_book as (
    select * from {{ ref('int_loan_book') }}
    where outstanding_principal > 0
),

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
    where {{ indicator_applies(indicator_id, 'ent_type') }}
),

borrowers as (
    select
        enterprise_id,
        period,
        borrower_party_id,
        sum(outstanding_principal) as outstanding,
        row_number() over (
            partition by enterprise_id, period order by sum(outstanding_principal) desc, borrower_party_id
        ) as borrower_rank
    from loan_book
    group by 1, 2, 3
),

measures as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.ent_type,
        enterprise_periods.period_end,
        count(borrowers.borrower_party_id) as borrowers,
        coalesce(sum(borrowers.outstanding), 0) as outstanding,
        coalesce(sum(case when borrowers.borrower_rank = 1 then borrowers.outstanding end), 0) as top1,
        coalesce(sum(case when borrowers.borrower_rank <= 10 then borrowers.outstanding end), 0) as top10,
        {{ dbt.listagg(
            "case when borrowers.borrower_rank <= 10 then borrowers.borrower_party_id end",
            "', '",
            "order by borrowers.borrower_rank"
        ) }}
            as top10_parties
    from enterprise_periods
    left join borrowers
        on enterprise_periods.enterprise_id = borrowers.enterprise_id
        and enterprise_periods.period = borrowers.period
    group by 1, 2, 3, 4
),

shares as (
    select
        measures.*,
        max_top10_share.value as max_top10_share,
        {{ compare('measures.borrowers', 'min_borrowers') }} as enough_borrowers,
        {{ threshold_status('cast(measures.top10 as ' ~ type_double() ~ ') / measures.outstanding', 'max_top10_share') }}
            as top10_status
    from measures
    {{ join_threshold('max_top10_share', indicator=indicator_id, ent_type='measures.ent_type', on_date='measures.period_end') }}
    {{ join_threshold('min_borrowers', indicator=indicator_id, ent_type='measures.ent_type', on_date='measures.period_end') }}
),

unioned as (
    {%- set row_value %}
        cast(top10 as {{ type_double() }}) / nullif(outstanding, 0)
    {%- endset %}
    {%- set row_status %}
        case
            when outstanding = 0 then 'NOT_APPLICABLE'
            when not enough_borrowers then 'INSUFFICIENT_DATA'
            else top10_status
        end
    {%- endset %}
    {%- set row_evidence %}
        cast(borrowers as {{ dbt.type_string() }}) || ' borrower(s); top 10: ' || coalesce(top10_parties, 'none')
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'top10_share', value=row_value, numerator='top10',
                         denominator='outstanding', status=row_status, threshold='max_top10_share',
                         evidence=row_evidence) }}
    from shares
    union all
    select
        enterprise_id, period, '{{ indicator_id }}', 'top1_share', cast(null as date),
        cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}),
        cast(top1 as {{ type_double() }}) / nullif(outstanding, 0), top1, outstanding,
        cast(null as {{ type_double() }}),
        case when outstanding = 0 then 'NOT_APPLICABLE' else 'INFO' end,
        cast(null as {{ dbt.type_string() }})
    from shares
    union all
    select
        enterprise_id, period, '{{ indicator_id }}', 'borrowers', cast(null as date),
        cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}),
        cast(borrowers as {{ type_double() }}), borrowers, 1,
        cast(null as {{ type_double() }}), 'INFO', cast(null as {{ dbt.type_string() }})
    from shares
)

{{ indicator_rows('unioned') }}
