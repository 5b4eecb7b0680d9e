-- CRD-008 Credit reporting coverage and CRD-009 Lending to dishonest debtors (P2P, CF; monthly), over
-- the loans originated in the period (origination_date within it), from int_loan_book.
-- CRD-008 credit_reported_share: loans with credit_reported / loans originated; WARN below
-- min_reported_share. CRD-009 dishonest_borrower_share: loans to borrowers with dishonest_flag / loans
-- originated; WARN above max_dishonest_share. NOT_APPLICABLE when nothing was originated. Evidence names
-- the loans at fault.
{%- set checks = [
    {'indicator_id': 'CRD-008', 'metric': 'credit_reported_share', 'flag': 'credit_reported',
     'fault': 'not credit_reported', 'param': 'min_reported_share', 'what': 'credit-reported'},
    {'indicator_id': 'CRD-009', 'metric': 'dishonest_borrower_share', 'flag': 'borrower_dishonest',
     'fault': 'borrower_dishonest', 'param': 'max_dishonest_share', 'what': 'to dishonest debtors'},
] %}

with

loan_book as (
    select * from {{ ref('int_loan_book') }}
    where originated_in_period
),

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

{%- for check in checks %}

{{ check.param }}_counts as (
    select
        enterprise_id,
        period,
        count(*) as loans,
        sum(case when {{ check.flag }} then 1 else 0 end) as flagged,
        {{ dbt.listagg("case when " ~ check.fault ~ " then loan_id end", "', '", "order by loan_id", 10) }} as fault_loans
    from loan_book
    group by 1, 2
),

{{ check.param }}_scored as (
    {%- set row_indicator_id %}
        '{{ check.indicator_id }}'
    {%- endset %}
    {%- set row_metric %}
        '{{ check.metric }}'
    {%- endset %}
    {%- set row_value %}
        cast(coalesce(counts.flagged, 0) as {{ type_double() }}) / nullif(coalesce(counts.loans, 0), 0)
    {%- endset %}
    {%- set row_status %}
        case
            when coalesce(counts.loans, 0) = 0 then 'NOT_APPLICABLE'
            else {{ threshold_status('cast(counts.flagged as ' ~ type_double() ~ ') / counts.loans', check.param) }}
        end
    {%- endset %}
    {%- set row_threshold %}
        {{ check.param }}.value
    {%- endset %}
    {%- set row_evidence %}
        cast(coalesce(counts.flagged, 0) as {{ dbt.type_string() }}) || ' of ' || cast(coalesce(counts.loans, 0) as {{ dbt.type_string() }})
        || ' loan(s) originated in the period {{ check.what }}'
        || coalesce('; at fault: ' || counts.fault_loans, '')
    {%- endset %}
    select
        {{ indicator_row(indicator_id_sql=row_indicator_id, metric_sql=row_metric, value=row_value,
                         numerator='coalesce(counts.flagged, 0)', denominator='coalesce(counts.loans, 0)',
                         status=row_status, threshold=row_threshold, evidence=row_evidence,
                         enterprise_id='enterprise_periods.enterprise_id', period='enterprise_periods.period') }}
    from enterprise_periods
    left join {{ check.param }}_counts as counts
        on enterprise_periods.enterprise_id = counts.enterprise_id
        and enterprise_periods.period = counts.period
    {{ join_threshold(
        check.param,
        indicator=check.indicator_id,
        ent_type='enterprise_periods.ent_type',
        on_date='enterprise_periods.period_end'
    ) }}
    where {{ indicator_applies(check.indicator_id, 'enterprise_periods.ent_type') }}
),
{%- endfor %}

unioned as (
    {%- for check in checks %}
    select * from {{ check.param }}_scored
    {{ 'union all' if not loop.last }}
    {%- endfor %}
)

{{ indicator_rows('unioned') }}
