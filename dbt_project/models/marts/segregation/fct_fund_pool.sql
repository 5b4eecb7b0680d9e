-- SEG-002 Fund-pool indicator (P2P, CF, WM, monthly), over ok customer legs:
--   pool_share = (legs crediting OWN_FUNDS or GUARANTEE with purpose <> fee, plus legs to a related-party
--     payee with a purpose outside the seed-free list of ordinary customer purposes below) / customer inflows;
--   unbacked_disbursement_share (P2P, CF) = loan_disbursement legs whose investment_id is not a position of
--     that lender (payer) on that loan / all loan_disbursement legs.
-- BREACH above the seed's max_pool_share / max_unbacked_share. Evidence names the txn ids.
{%- set indicator_id = 'SEG-002' %}
{#- indicators.md SEG-002: payments to a related party are ordinary for these purposes (a definition, not a threshold) -#}
{%- set ordinary_related_purposes = "('loan_disbursement', 'repayment', 'withdrawal', 'redemption', 'top_up')" %}

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

legs as (
    select * from {{ ref('int_customer_legs_classified') }}
),

parties as (
    select * from {{ ref('stg_filings__parties') }}
),

investments as (
    select * from {{ ref('stg_filings__investments') }}
),

platform_periods as (
    select enterprise_id, period, ent_type, period_end, submission_id
    from enterprise_periods
    where ent_type in ('P2P', 'CF', 'WM')
),

flagged_legs as (
    select
        legs.submission_id,
        legs.txn_id,
        legs.amount_cny,
        legs.flow_direction,
        legs.purpose,
        (legs.credit_account_class in ('OWN_FUNDS', 'GUARANTEE') and legs.purpose <> 'fee')
        or (coalesce(payees.is_related_party, false) and legs.purpose not in {{ ordinary_related_purposes }}) as pooled,
        legs.purpose = 'loan_disbursement' and positions.investment_id is null as unbacked
    from legs
    inner join platform_periods
        on legs.submission_id = platform_periods.submission_id
    left join parties as payees
        on legs.submission_id = payees.submission_id
        and legs.payee_party_id = payees.party_id
    left join investments as positions
        on legs.purpose = 'loan_disbursement'
        and legs.submission_id = positions.submission_id
        and legs.investment_id = positions.investment_id
        and legs.payer_party_id = positions.investor_party_id
        and legs.loan_id = positions.loan_id
),

per_submission as (
    select
        submission_id,
        coalesce(sum(case when flow_direction = 'inflow' then amount_cny end), 0) as inflow,
        coalesce(sum(case when pooled then amount_cny end), 0) as pooled,
        count(case when purpose = 'loan_disbursement' then 1 end) as disbursements,
        count(case when unbacked then 1 end) as unbacked,
        {{ dbt.listagg("case when pooled then txn_id end", "', '", "order by txn_id") }} as pooled_txns,
        {{ dbt.listagg("case when unbacked then txn_id end", "', '", "order by txn_id") }} as unbacked_txns
    from flagged_legs
    group by 1
),

measures as (
    select
        platform_periods.enterprise_id,
        platform_periods.period,
        platform_periods.ent_type,
        platform_periods.period_end,
        'pool_share' as metric,
        'max_pool_share' as param,
        coalesce(per_submission.pooled, 0) as numerator,
        coalesce(per_submission.inflow, 0) as denominator,
        'pooled legs: ' || per_submission.pooled_txns as listed
    from platform_periods
    left join per_submission
        on platform_periods.submission_id = per_submission.submission_id
    union all
    select
        platform_periods.enterprise_id,
        platform_periods.period,
        platform_periods.ent_type,
        platform_periods.period_end,
        'unbacked_disbursement_share' as metric,
        'max_unbacked_share' as param,
        coalesce(per_submission.unbacked, 0) as numerator,
        coalesce(per_submission.disbursements, 0) as denominator,
        'disbursements without the lender''s position: ' || per_submission.unbacked_txns as listed
    from platform_periods
    left join per_submission
        on platform_periods.submission_id = per_submission.submission_id
    where platform_periods.ent_type in ('P2P', 'CF')
),

scored as (
    {%- set row_value %}
        cast(measures.numerator as {{ type_double() }}) / nullif(measures.denominator, 0)
    {%- endset %}
    {%- set row_status %}
        case
            when measures.denominator = 0 then 'NOT_APPLICABLE'
            else {{ threshold_status('cast(measures.numerator as ' ~ type_double() ~ ') / measures.denominator', 'max_share') }}
        end
    {%- endset %}
    select
        {{ indicator_row(indicator_id, metric_sql='measures.metric', value=row_value,
                         numerator='measures.numerator', denominator='measures.denominator',
                         status=row_status, threshold='max_share.value',
                         evidence='case when measures.numerator > 0 then measures.listed end',
                         enterprise_id='measures.enterprise_id', period='measures.period') }}
    from measures
    left join {{ ref('int_thresholds_resolved') }} as max_share
        on max_share.indicator_id = '{{ indicator_id }}'
        and max_share.param = measures.param
        and max_share.ent_type = measures.ent_type
        and max_share.valid_from <= measures.period_end
        and measures.period_end < max_share.valid_to
)

{{ indicator_rows('scored') }}
