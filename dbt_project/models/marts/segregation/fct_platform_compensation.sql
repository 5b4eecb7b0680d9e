-- SEG-004 Platform compensation (P2P, CF, WM, monthly): ok customer legs paying lenders from OWN_FUNDS or
-- GUARANTEE (purpose compensation or repayment) / sum of principal_due_in_period of the loan snapshot.
-- WARN above max_share; evidence names the txn ids. No principal due: NOT_APPLICABLE (a compensation
-- without any due principal still shows in the numerator and the evidence).
{%- set indicator_id = 'SEG-004' %}

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

legs as (
    select * from {{ ref('int_customer_legs_classified') }}
),

loans as (
    select * from {{ ref('stg_filings__loans') }}
),

compensation as (
    select
        submission_id,
        sum(amount_cny) as paid,
        {{ dbt.listagg('txn_id', "', '", 'order by txn_id') }} as txns
    from legs
    where debit_account_class in ('OWN_FUNDS', 'GUARANTEE')
        and purpose in ('compensation', 'repayment')
    group by 1
),

due as (
    select submission_id, sum(principal_due_in_period) as principal_due
    from loans
    group by 1
),

measured as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.ent_type,
        enterprise_periods.period_end,
        coalesce(compensation.paid, 0) as paid,
        coalesce(due.principal_due, 0) as principal_due,
        compensation.txns
    from enterprise_periods
    left join compensation
        on enterprise_periods.submission_id = compensation.submission_id
    left join due
        on enterprise_periods.submission_id = due.submission_id
    where enterprise_periods.ent_type in ('P2P', 'CF', 'WM')
),

scored as (
    {%- set row_value %}
        cast(measured.paid as {{ type_double() }}) / nullif(measured.principal_due, 0)
    {%- endset %}
    {%- set row_status %}
        case
            when measured.principal_due = 0 then 'NOT_APPLICABLE'
            else {{ threshold_status('cast(measured.paid as ' ~ type_double() ~ ') / measured.principal_due', 'max_share') }}
        end
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'compensation_share', value=row_value, numerator='measured.paid',
                         denominator='measured.principal_due', status=row_status,
                         threshold='max_share.value',
                         evidence="case when measured.paid > 0 then 'platform-funded payments: ' || measured.txns end",
                         enterprise_id='measured.enterprise_id', period='measured.period') }}
    from measured
    {{ join_threshold('max_share', indicator=indicator_id, ent_type='measured.ent_type', on_date='measured.period_end') }}
)

{{ indicator_rows('scored') }}
