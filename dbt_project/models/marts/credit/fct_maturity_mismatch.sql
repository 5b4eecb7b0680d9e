-- CRD-007 Maturity mismatch (P2P, CF; monthly): p2p_loan and cf_debt positions of the period's
-- investments snapshot whose term_days is shorter than the days from the position's start_date to its
-- loan's maturity_date (term splitting) / all such positions; BREACH above max_mismatch_share.
-- Evidence names the positions.
{%- set indicator_id = 'CRD-007' %}

with

investments as (
    select * from {{ ref('stg_filings__investments') }}
    where product_type in ('p2p_loan', 'cf_debt')
),

loan_book as (
    select * from {{ ref('int_loan_book') }}
),

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
    where {{ indicator_applies(indicator_id, 'ent_type') }}
),

positions as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        investments.investment_id,
        investments.term_days,
        {{ dbt.datediff(
            'investments.start_date',
            'loan_book.maturity_date',
            'day'
        ) }} as days_to_maturity,
        investments.term_days < {{ dbt.datediff('investments.start_date', 'loan_book.maturity_date', 'day') }}
            as mismatched
    from enterprise_periods
    inner join investments
        on enterprise_periods.submission_id = investments.submission_id
    left join loan_book
        on investments.enterprise_id = loan_book.enterprise_id
        and investments.period = loan_book.period
        and investments.loan_id = loan_book.loan_id
),

counts as (
    select
        enterprise_id,
        period,
        count(*) as positions,
        sum(case when mismatched then 1 else 0 end) as mismatched,
        {{ dbt.listagg(
            "case when mismatched then investment_id || ' ' || cast(term_days as "
              ~ dbt.type_string()
              ~ ") || 'd for ' || cast(days_to_maturity as "
              ~ dbt.type_string()
              ~ ") || 'd' end",
            "', '",
            "order by investment_id",
            10
        ) }}
            as mismatched_positions
    from positions
    group by 1, 2
),

scored as (
    {%- set row_value %}
        cast(coalesce(counts.mismatched, 0) as {{ type_double() }}) / nullif(coalesce(counts.positions, 0), 0)
    {%- endset %}
    {%- set row_status %}
        case
            when coalesce(counts.positions, 0) = 0 then 'NOT_APPLICABLE'
            else {{ threshold_status('cast(counts.mismatched as ' ~ type_double() ~ ') / counts.positions', 'max_mismatch_share') }}
        end
    {%- endset %}
    {%- set row_evidence %}
        cast(coalesce(counts.mismatched, 0) as {{ dbt.type_string() }}) || ' of ' || cast(coalesce(counts.positions, 0) as {{ dbt.type_string() }})
        || ' loan position(s) shorter than their loan' || coalesce(': ' || counts.mismatched_positions, '')
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'mismatched_position_share', value=row_value,
                         numerator='coalesce(counts.mismatched, 0)',
                         denominator='coalesce(counts.positions, 0)', status=row_status,
                         threshold='max_mismatch_share.value', evidence=row_evidence,
                         enterprise_id='enterprise_periods.enterprise_id', period='enterprise_periods.period') }}
    from enterprise_periods
    left join counts
        on enterprise_periods.enterprise_id = counts.enterprise_id
        and enterprise_periods.period = counts.period
    {{ join_threshold(
        'max_mismatch_share',
        indicator=indicator_id,
        ent_type='enterprise_periods.ent_type',
        on_date='enterprise_periods.period_end'
    ) }}
)

{{ indicator_rows('scored') }}
