-- AML-001 Large-value report capture (indicators.md): per enterprise x period, the large-value
-- transactions of the ledger (int_aml_large_value) reported by an LVTR within report_working_days
-- working days, in this or the next period's current version, / the large-value transactions found.
-- Transactions whose deadline is still open (after the period end, next period not yet current, not
-- yet due) are left out of both; with any of them and nothing unreported the status is
-- INSUFFICIENT_DATA. BREACH when the capture falls below min_capture (100%); NOT_APPLICABLE with no
-- large-value transaction. Evidence: the unreported transaction ids (rows of fct_aml_evidence).

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

large_value as (
    select * from {{ ref('int_aml_large_value') }}
),

counts as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.ent_type,
        enterprise_periods.period,
        count(case when not large_value.is_pending then 1 end) as found,
        count(case when large_value.is_reported then 1 end) as reported,
        count(case when large_value.is_pending then 1 end) as pending,
        {{ string_agg_ordered(
            'case when not large_value.is_reported and not large_value.is_pending then large_value.txn_id end',
            "' '", 'large_value.txn_id'
        ) }} as unreported_txn_ids
    from enterprise_periods
    left join large_value
        on enterprise_periods.enterprise_id = large_value.enterprise_id
        and enterprise_periods.period = large_value.period
    group by enterprise_periods.enterprise_id, enterprise_periods.ent_type, enterprise_periods.period
),

scored as (
    {%- set row_status %}
        case
            when counts.found > counts.reported
                then {{ threshold_status('counts.reported * 1.0 / counts.found', 'min_capture') }}
            when counts.pending > 0 then 'INSUFFICIENT_DATA'
            when counts.found = 0 then 'NOT_APPLICABLE'
            else {{ threshold_status('counts.reported * 1.0 / counts.found', 'min_capture') }}
        end
    {%- endset %}
    select
        {{ indicator_row('AML-001', 'capture_ratio',
                         value='case when counts.found > 0 then counts.reported * 1.0 / counts.found end',
                         numerator='counts.reported', denominator='counts.found', status=row_status,
                         threshold='min_capture.value', evidence='counts.unreported_txn_ids',
                         enterprise_id='counts.enterprise_id', period='counts.period') }}
    from counts
    {{ join_threshold('min_capture', 'counts.ent_type', period_end('counts.period'), indicator='AML-001') }}
)

{{ indicator_rows('scored') }}
