-- FLOW-003 Counterparty concentration (all types, monthly) over outflow counterparties (the payee of
-- each outflow leg; legs without a payee count as one unidentified counterparty):
--   hhi          = sum over counterparties of (100 x share)^2 = 10,000 x numerator / denominator with
--                  numerator = sum of squared amounts, denominator = outflow squared;
--   top1_share, top10_share = the largest 1 and 10 counterparties' amounts / outflow;
--   counterparties = their number.
-- The HHI is screened only with at least min_counterparties counterparties (else INSUFFICIENT_DATA):
-- WARN when hhi > max_hhi, or when hhi > hhi_rise_floor and it rose by more than max_hhi_rise since the
-- previous calendar period. The other metrics are INFO.
{%- set indicator_id = 'FLOW-003' %}

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

legs as (
    select * from {{ ref('int_customer_legs_classified') }}
),

counterparty_amounts as (
    select
        enterprise_id,
        period,
        coalesce(external_party_id, '(unidentified)') as counterparty,
        sum(amount_cny) as amount
    from legs
    where flow_direction = 'outflow'
    group by 1, 2, 3
),

ranked as (
    select
        *,
        row_number() over (partition by enterprise_id, period order by amount desc, counterparty asc) as amount_rank
    from counterparty_amounts
),

measures as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.ent_type,
        enterprise_periods.period_end,
        {{ period_index('enterprise_periods.period') }} as period_index,
        count(ranked.counterparty) as counterparties,
        coalesce(sum(ranked.amount), 0) as outflow,
        {{ money_product_sum('ranked.amount', 'ranked.amount') }} as sum_of_squares,
        max(ranked.amount) as top1_amount,
        sum(case when ranked.amount_rank <= 10 then ranked.amount end) as top10_amount,
        max(case when ranked.amount_rank = 1 then ranked.counterparty end) as top1_counterparty
    from enterprise_periods
    left join ranked
        on enterprise_periods.enterprise_id = ranked.enterprise_id
        and enterprise_periods.period = ranked.period
    group by 1, 2, 3, 4, 5
),

with_hhi as (
    select
        *,
        cast(outflow as {{ type_double() }}) * cast(outflow as {{ type_double() }}) as outflow_squared,
        10000 * sum_of_squares / nullif(cast(outflow as {{ type_double() }}) * cast(outflow as {{ type_double() }}), 0) as hhi
    from measures
),

with_previous as (
    select
        current_period.*,
        previous_period.period as previous_period,
        previous_period.hhi as previous_hhi
    from with_hhi as current_period
    left join with_hhi as previous_period
        on current_period.enterprise_id = previous_period.enterprise_id
        and previous_period.period_index = current_period.period_index - 1
),

hhi_scored as (
    {%- set row_status %}
        case
            when with_previous.outflow = 0 then 'NOT_APPLICABLE'
            when not {{ compare('with_previous.counterparties', 'min_counterparties') }} then 'INSUFFICIENT_DATA'
            when {{ compare('with_previous.hhi', 'max_hhi') }} then max_hhi.severity
            when {{ compare('with_previous.hhi', 'hhi_rise_floor') }}
                and {{ compare('with_previous.hhi - with_previous.previous_hhi', 'max_hhi_rise') }}
                then max_hhi_rise.severity
            else 'OK'
        end
    {%- endset %}
    {%- set row_threshold %}
        case
            when not {{ compare('with_previous.hhi', 'max_hhi') }}
                and {{ compare('with_previous.hhi', 'hhi_rise_floor') }}
                and {{ compare('with_previous.hhi - with_previous.previous_hhi', 'max_hhi_rise') }}
                then with_previous.previous_hhi + max_hhi_rise.value
            else max_hhi.value
        end
    {%- endset %}
    {%- set row_evidence %}
        cast(with_previous.counterparties as {{ dbt.type_string() }}) || ' counterparties; top '
        || coalesce(with_previous.top1_counterparty, 'none') || ' '
        || coalesce({{ num_text('100 * with_previous.top1_amount / nullif(with_previous.outflow, 0)', 1) }}, '0') || '%'
        || case
            when with_previous.previous_hhi is not null
                then '; previous period ' || with_previous.previous_period || ' HHI '
                || {{ num_text('with_previous.previous_hhi') }}
            else ''
        end
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'hhi', value='with_previous.hhi',
                         numerator='with_previous.sum_of_squares',
                         denominator='with_previous.outflow_squared', status=row_status,
                         threshold=row_threshold, evidence=row_evidence,
                         enterprise_id='with_previous.enterprise_id', period='with_previous.period') }}
    from with_previous
    {%- for param in ['min_counterparties', 'max_hhi', 'hhi_rise_floor', 'max_hhi_rise'] %}
    {{ join_threshold(param, indicator=indicator_id, ent_type='with_previous.ent_type', on_date='with_previous.period_end') }}
    {%- endfor %}
),

descriptive as (
    {%- for metric, numerator, denominator in [
        ('top1_share', 'top1_amount', 'outflow'),
        ('top10_share', 'top10_amount', 'outflow'),
        ('counterparties', 'counterparties', '1'),
    ] %}
    {%- set row_metric %}
        '{{ metric }}'
    {%- endset %}
    {%- set row_value %}
        cast(coalesce({{ numerator }}, 0) as {{ type_double() }}) / nullif({{ denominator }}, 0)
    {%- endset %}
    {%- set row_numerator %}
        coalesce({{ numerator }}, 0)
    {%- endset %}
    select
        {{ indicator_row(indicator_id, metric_sql=row_metric, value=row_value, numerator=row_numerator,
                         denominator=denominator,
                         status="case when outflow = 0 then 'NOT_APPLICABLE' else 'INFO' end") }}
    from with_hhi
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

unioned as (
    select * from hhi_scored
    union all
    select * from descriptive
)

{{ indicator_rows('unioned') }}
