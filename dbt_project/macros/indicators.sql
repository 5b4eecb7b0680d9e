{#- The long format every indicator mart produces (indicators.md "Conventions"): one row per
    (enterprise_id, period, indicator_id, metric, as_of_date, dimension, dimension_value) with value,
    numerator, denominator, threshold, status, plus `evidence` (a short pointer for fct_alerts, kept out
    of fct_indicator_values) and computed_at = the warehouse clock. -#}

{#- The indicator marts fct_indicator_values and fct_alerts union. Add a new indicator mart here. -#}
{% macro indicator_marts() -%}
    {{ return([
        'fct_reserve_coverage',
        'fct_reserve_deposit_ratio', 'fct_reserve_reconciliation', 'fct_reserve_segregation_lag', 'fct_reserve_leakage', 'fct_account_class_limits',
        'fct_custody_coverage', 'fct_fund_pool', 'fct_self_financing', 'fct_platform_compensation', 'fct_idle_balances',
        'fct_liquidity_coverage', 'fct_redemption_pressure', 'fct_cash_flow_gap', 'fct_flow_velocity',
        'fct_complaint_rate',
        'fct_complaint_timeliness', 'fct_complaint_escalation', 'fct_complaint_issue_mix',
        'fct_loan_overdue', 'fct_loan_roll_rates', 'fct_loan_losses', 'fct_borrower_concentration', 'fct_borrower_limits',
        'fct_loan_pricing', 'fct_maturity_mismatch', 'fct_loan_origination_checks',
        'fct_availability', 'fct_incident_reporting', 'fct_hidden_outages',
        'fct_aml_large_value', 'fct_aml_typologies', 'fct_aml_reporting',
        'fct_flow_direction',
        'fct_flow_shares',
        'fct_flow_concentration',
        'fct_late_filing',
        'fct_resubmissions', 'fct_completeness', 'fct_internal_consistency', 'fct_benford', 'fct_sudden_jump', 'fct_round_numbers_copy_forward',
    ]) }}
{%- endmacro %}

{% macro indicator_value_columns() -%}
    {{ return(['enterprise_id', 'period', 'indicator_id', 'metric', 'as_of_date', 'dimension',
               'dimension_value', 'value', 'numerator', 'denominator', 'threshold', 'status', 'computed_at']) }}
{%- endmacro %}

{% macro type_double() -%}double{%- endmacro %}

{#- The final select of an indicator mart over a CTE that has the columns by name (as_of_date,
    dimension, dimension_value, threshold and evidence may be null). Casts to the contract's types and
    stamps computed_at. -#}
{% macro indicator_rows(cte) -%}
    select
        cast(enterprise_id as {{ dbt.type_string() }}) as enterprise_id,
        cast(period as {{ dbt.type_string() }}) as period,
        cast(indicator_id as {{ dbt.type_string() }}) as indicator_id,
        cast(metric as {{ dbt.type_string() }}) as metric,
        cast(as_of_date as date) as as_of_date,
        cast(dimension as {{ dbt.type_string() }}) as dimension,
        cast(dimension_value as {{ dbt.type_string() }}) as dimension_value,
        cast(value as {{ type_double() }}) as value,
        cast(numerator as {{ type_double() }}) as numerator,
        cast(denominator as {{ type_double() }}) as denominator,
        cast(threshold as {{ type_double() }}) as threshold,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(evidence as {{ dbt.type_string() }}) as evidence,
        {{ as_of_timestamp() }} as computed_at
    from {{ cte }}
{%- endmacro %}

{#- A number as text for messages and evidence, rounded to `digits` places. -#}
{% macro num_text(expr, digits=2) -%}
    case
        when isfinite(cast({{ expr }} as {{ type_double() }}))
            then cast(round(cast({{ expr }} as {{ type_double() }}), {{ digits }}) as {{ dbt.type_string() }})
        when {{ expr }} is not null then 'n/a'
    end
{%- endmacro %}
