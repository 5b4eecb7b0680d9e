-- CRD-006 Pricing breach (P2P, CF; monthly), over the loans of the period's snapshot, from
-- int_loan_book. loans_apr_over_limit: loans with apr_comprehensive above max_apr_comprehensive;
-- loans_fees_deducted_upfront: loans whose disbursed_amount < contract_principal. Counts (denominator 1);
-- each BREACHes above max_breaching_loans. Evidence names the loans.
{%- set indicator_id = 'CRD-006' %}

with

loan_book as (
    select * from {{ ref('int_loan_book') }}
),

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
    where {{ indicator_applies(indicator_id, 'ent_type') }}
),

judged as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        loan_book.loan_id,
        loan_book.apr_comprehensive,
        loan_book.contract_principal,
        loan_book.disbursed_amount,
        {{ compare('loan_book.apr_comprehensive', 'max_apr_comprehensive') }} as apr_over,
        loan_book.disbursed_amount < loan_book.contract_principal as fees_upfront
    from enterprise_periods
    inner join loan_book
        on enterprise_periods.enterprise_id = loan_book.enterprise_id
        and enterprise_periods.period = loan_book.period
    {{ join_threshold(
        'max_apr_comprehensive',
        indicator=indicator_id,
        ent_type='enterprise_periods.ent_type',
        on_date='enterprise_periods.period_end'
    ) }}
),

counts as (
    select
        enterprise_id,
        period,
        sum(case when apr_over then 1 else 0 end) as apr_over,
        sum(case when fees_upfront then 1 else 0 end) as fees_upfront,
        {{ dbt.listagg(
            "case when apr_over then loan_id || ' APR ' || " ~ num_text('apr_comprehensive', 4) ~ " end",
            "', '",
            "order by loan_id",
            10
        ) }}
            as apr_over_loans,
        {{ dbt.listagg(
            "case when fees_upfront then loan_id || ' disbursed ' || "
              ~ num_text('disbursed_amount')
              ~ " || ' of ' || "
              ~ num_text('contract_principal')
              ~ " end",
            "', '",
            "order by loan_id",
            10
        ) }}
            as fees_upfront_loans
    from judged
    group by 1, 2
),

measures as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.ent_type,
        enterprise_periods.period_end,
        coalesce(counts.apr_over, 0) as apr_over,
        coalesce(counts.fees_upfront, 0) as fees_upfront,
        counts.apr_over_loans,
        counts.fees_upfront_loans
    from enterprise_periods
    left join counts
        on enterprise_periods.enterprise_id = counts.enterprise_id
        and enterprise_periods.period = counts.period
),

unioned as (
    {%- for metric, column, what in [('loans_apr_over_limit', 'apr_over', 'APR above the limit'),
                                     ('loans_fees_deducted_upfront', 'fees_upfront', 'fees deducted upfront')] %}
    {%- set row_metric %}
        '{{ metric }}'
    {%- endset %}
    {%- set row_value %}
        cast(measures.{{ column }} as {{ type_double() }})
    {%- endset %}
    {%- set row_numerator %}
        measures.{{ column }}
    {%- endset %}
    {%- set row_evidence %}
        cast(measures.{{ column }} as {{ dbt.type_string() }}) || ' loan(s) with {{ what }}'
        || coalesce(': ' || measures.{{ column }}_loans, '')
    {%- endset %}
    select
        {{ indicator_row(indicator_id, metric_sql=row_metric, value=row_value, numerator=row_numerator,
                         denominator='1',
                         status=threshold_status('measures.' ~ column, 'max_breaching_loans'),
                         threshold='max_breaching_loans.value', evidence=row_evidence,
                         enterprise_id='measures.enterprise_id', period='measures.period') }}
    from measures
    {{ join_threshold(
        'max_breaching_loans',
        indicator=indicator_id,
        ent_type='measures.ent_type',
        on_date='measures.period_end'
    ) }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
)

{{ indicator_rows('unioned') }}
