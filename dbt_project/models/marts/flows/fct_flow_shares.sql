-- FLOW-002 Direction shares (all types, monthly), from int_flows_by_direction: the share of outflow
-- (amount_cny of `ok` customer legs going outside) that goes cross-border, to related parties
-- (is_related_party of the payee), and to each counterparty sector, region and country (metric
-- outflow_share, by dimension; 'none' where null). A
-- category seen in the enterprise's last max_history periods keeps a row (share 0) while it is absent,
-- so a share that collapses is screened too. Each share is screened against its own history (two-sided
-- robust z): WARN when it fires, INSUFFICIENT_HISTORY with fewer than min_history previous periods. The
-- screen's sigma is at least the share's sampling noise: resampling the period's outflow legs, a share
-- s of total A varies by sqrt((1 - s)^2 Q_k + s^2 (Q - Q_k)) / A (Q = sum of squared leg amounts, Q_k
-- those of the category), so a region or sector fed by a few large legs does not warn on their chance
-- comings and goings. A period with fewer than min_outflow_legs outflow legs is INSUFFICIENT_DATA.
-- fatf_outflow_share: outflow to FATF call-for-action jurisdictions (seed fatf_jurisdictions, valid at
-- period end) / outflow; BREACH when any (max_fatf_outflow).
{%- set indicator_id = 'FLOW-002' %}
{%- set dimensions = ['is_cross_border', 'is_related_party', 'cp_sector', 'cp_region', 'cp_country'] %}

with

flows as (
    select * from {{ ref('int_flows_by_direction') }}
),

fatf_jurisdictions as (
    select * from {{ ref('fatf_jurisdictions') }}
),

outflow_totals as (
    select
        enterprise_id,
        period,
        ent_type,
        period_end,
        {{ period_index('period') }} as period_index,
        outflow,
        outflow_sq,
        outflow_legs
    from flows
    where dimension is null
),

category_amounts as (
    select
        enterprise_id,
        period,
        dimension,
        dimension_value,
        outflow as amount,
        outflow_sq as amount_sq,
        outflow_legs as legs
    from flows
    where dimension in ({{ "'" ~ dimensions | join("', '") ~ "'" }})
        and outflow > 0
),

category_appearances as (
    select
        category_amounts.enterprise_id,
        category_amounts.dimension,
        category_amounts.dimension_value,
        outflow_totals.period_index
    from category_amounts
    inner join outflow_totals
        on category_amounts.enterprise_id = outflow_totals.enterprise_id
        and category_amounts.period = outflow_totals.period
),

category_periods as (
    select distinct
        outflow_totals.enterprise_id,
        outflow_totals.period,
        category_appearances.dimension,
        category_appearances.dimension_value
    from outflow_totals
    inner join category_appearances
        on outflow_totals.enterprise_id = category_appearances.enterprise_id
        and category_appearances.period_index <= outflow_totals.period_index
    {{ join_threshold(
        'max_history',
        indicator=indicator_id,
        ent_type='outflow_totals.ent_type',
        on_date='outflow_totals.period_end'
    ) }}
    where category_appearances.period_index >= outflow_totals.period_index - max_history.value
),

shares as (
    select
        outflow_totals.enterprise_id,
        outflow_totals.ent_type,
        outflow_totals.period,
        '{{ indicator_id }}' as indicator_id,
        'outflow_share' as metric,
        category_periods.dimension,
        category_periods.dimension_value,
        coalesce(category_amounts.amount, 0) as numerator,
        outflow_totals.outflow as denominator,
        outflow_totals.outflow_legs,
        outflow_totals.period_end,
        cast(coalesce(category_amounts.amount, 0) as {{ type_double() }}) / nullif(outflow_totals.outflow, 0) as value,
        coalesce(category_amounts.amount_sq, 0) as category_sq,
        outflow_totals.outflow_sq as total_sq
    from category_periods
    inner join outflow_totals
        on category_periods.enterprise_id = outflow_totals.enterprise_id
        and category_periods.period = outflow_totals.period
    left join category_amounts
        on category_periods.enterprise_id = category_amounts.enterprise_id
        and category_periods.period = category_amounts.period
        and category_periods.dimension = category_amounts.dimension
        and category_periods.dimension_value = category_amounts.dimension_value
),

shares_with_noise as (
    select
        *,
        sqrt(
            (1 - value) * (1 - value) * category_sq + value * value * (total_sq - category_sq)
        ) / nullif(denominator, 0) as noise_sd
    from shares
),

shares_scored as (
    {%- set row_status %}
        case
            when shares.denominator = 0 then 'NOT_APPLICABLE'
            when not {{ compare('shares.outflow_legs', 'min_legs') }} then 'INSUFFICIENT_DATA'
            else {{ screen_status('history_screen', 'history') }}
        end
    {%- endset %}
    {%- set row_evidence %}
        coalesce(
            {{ screen_evidence('history_screen', 'history', digits=4) }}
            || coalesce(', sampling sd ' || {{ num_text('shares.noise_sd', 4) }}, ''),
            case when not {{ compare('shares.outflow_legs', 'min_legs') }}
                then cast(shares.outflow_legs as {{ dbt.type_string() }}) || ' outflow leg(s)' end
        )
    {%- endset %}
    select
        {{ indicator_row(indicator_id_sql='shares.indicator_id', metric_sql='shares.metric',
                         value='shares.value', numerator='shares.numerator',
                         denominator='shares.denominator', status=row_status,
                         threshold='history_screen.screen_bound', evidence=row_evidence,
                         dimension='shares.dimension', dimension_value='shares.dimension_value',
                         enterprise_id='shares.enterprise_id', period='shares.period') }}
    from shares_with_noise as shares
    left join {{ robust_screen('shares_with_noise', 'history', two_sided=true, noise_sd='noise_sd') }} as history_screen
        on {{ screen_keys_match('shares', 'history_screen') }}
    {{ join_threshold(
        'min_outflow_legs',
        alias='min_legs',
        indicator=indicator_id,
        ent_type='shares.ent_type',
        on_date='shares.period_end'
    ) }}
),

fatf_by_country as (
    select
        category_amounts.enterprise_id,
        category_amounts.period,
        category_amounts.dimension_value as cp_country,
        category_amounts.amount,
        category_amounts.legs
    from category_amounts
    inner join outflow_totals
        on category_amounts.enterprise_id = outflow_totals.enterprise_id
        and category_amounts.period = outflow_totals.period
    inner join fatf_jurisdictions
        on category_amounts.dimension_value = fatf_jurisdictions.country
        and fatf_jurisdictions.list = 'call_for_action'
        and fatf_jurisdictions.valid_from <= outflow_totals.period_end
        and outflow_totals.period_end < fatf_jurisdictions.valid_to
    where category_amounts.dimension = 'cp_country'
),

fatf_outflows as (
    select
        enterprise_id,
        period,
        sum(amount) as amount,
        {{ dbt.listagg(
            "cp_country || ' CNY ' || " ~ num_text('amount') ~ " || ' (' || cast(legs as " ~ dbt.type_string() ~ ") || ' leg(s))'",
            "'; '",
            "order by cp_country") }} as countries
    from fatf_by_country
    group by enterprise_id, period
),

fatf_scored as (
    {%- set row_value %}
        cast(coalesce(fatf_outflows.amount, 0) as {{ type_double() }}) / nullif(outflow_totals.outflow, 0)
    {%- endset %}
    {%- set row_status %}
        case
            when outflow_totals.outflow = 0 then 'NOT_APPLICABLE'
            else {{ threshold_status('coalesce(fatf_outflows.amount, 0)', 'max_fatf_outflow') }}
        end
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'fatf_outflow_share', value=row_value,
                         numerator='coalesce(fatf_outflows.amount, 0)', denominator='outflow_totals.outflow',
                         status=row_status, threshold='max_fatf_outflow.value',
                         evidence="'outflow to FATF call-for-action jurisdictions: ' || coalesce(fatf_outflows.countries, 'none')",
                         enterprise_id='outflow_totals.enterprise_id', period='outflow_totals.period') }}
    from outflow_totals
    left join fatf_outflows
        on outflow_totals.enterprise_id = fatf_outflows.enterprise_id
        and outflow_totals.period = fatf_outflows.period
    {{ join_threshold(
        'max_fatf_outflow',
        indicator=indicator_id,
        ent_type='outflow_totals.ent_type',
        on_date='outflow_totals.period_end'
    ) }}
),

unioned as (
    select * from shares_scored
    union all
    select * from fatf_scored
)

{{ indicator_rows('unioned') }}
