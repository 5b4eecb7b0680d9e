-- Inflow and outflow (amount_cny and leg counts of `ok` customer legs crossing the enterprise's
-- boundary) per enterprise x period, in total (dimension null; every enterprise-period, zeros included)
-- and per value of each breakdown of indicators.md: the counterparty's cp_sector, cp_region, cp_country,
-- is_cross_border and the external-side party's related-party flag ('none' where null). FLOW-001 and
-- FLOW-002 read it. inflow_sq / outflow_sq = the sum over external counterparties of the square of each
-- one's amount: the sampling noise of the amounts and of the shares built on them (a sum over
-- counterparties who come and go varies by the square root of it; counterparties, not legs, because one
-- party's legs come and go together). Summed exactly (money_product_sum): the same bits on every run.
{%- set party_sums %}
        sum(case when flow_direction = 'inflow' then amount_cny else 0 end) as party_inflow,
        sum(case when flow_direction = 'outflow' then amount_cny else 0 end) as party_outflow
{%- endset %}
{%- set square_sums %}
        {{ money_product_sum('party_inflow', 'party_inflow') }} as inflow_sq,
        {{ money_product_sum('party_outflow', 'party_outflow') }} as outflow_sq
{%- endset %}
{%- set dimensions = ['cp_sector', 'cp_region', 'cp_country', 'is_cross_border', 'is_related_party'] %}
{%- set flow_sums %}
        coalesce(sum(case when external_legs.flow_direction = 'inflow' then external_legs.amount_cny end), 0) as inflow,
        coalesce(sum(case when external_legs.flow_direction = 'outflow' then external_legs.amount_cny end), 0) as outflow,
        count(case when external_legs.flow_direction = 'inflow' then 1 end) as inflow_legs,
        count(case when external_legs.flow_direction = 'outflow' then 1 end) as outflow_legs
{%- endset %}

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

legs as (
    select * from {{ ref('int_customer_legs_classified') }}
),

external_legs as (
    select
        enterprise_id,
        period,
        flow_direction,
        amount_cny,
        cp_sector,
        cp_region,
        cp_country,
        cast(is_cross_border as {{ dbt.type_string() }}) as is_cross_border,
        cast(external_party_is_related as {{ dbt.type_string() }}) as is_related_party,
        coalesce(external_party_id, txn_id) as party_key
    from legs
    where flow_direction in ('inflow', 'outflow')
),

totals as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        cast(null as {{ dbt.type_string() }}) as dimension,
        cast(null as {{ dbt.type_string() }}) as dimension_value,
        {{ flow_sums }}
    from enterprise_periods
    left join external_legs
        on enterprise_periods.enterprise_id = external_legs.enterprise_id
        and enterprise_periods.period = external_legs.period
    group by 1, 2, 3, 4
),

breakdowns as (
    {%- for dimension in dimensions %}
    select
        external_legs.enterprise_id,
        external_legs.period,
        '{{ dimension }}' as dimension,
        coalesce(external_legs.{{ dimension }}, 'none') as dimension_value,
        {{ flow_sums }}
    from external_legs
    group by 1, 2, 3, 4
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

party_squares as (
    select enterprise_id, period, cast(null as {{ dbt.type_string() }}) as dimension,
        cast(null as {{ dbt.type_string() }}) as dimension_value, {{ square_sums }}
    from (
        select enterprise_id, period, party_key, {{ party_sums }}
        from external_legs
        group by 1, 2, 3
    ) as by_party
    group by 1, 2, 3, 4
    {%- for dimension in dimensions %}
    union all
    select enterprise_id, period, '{{ dimension }}' as dimension, dimension_value, {{ square_sums }}
    from (
        select enterprise_id, period, coalesce({{ dimension }}, 'none') as dimension_value, party_key, {{ party_sums }}
        from external_legs
        group by 1, 2, 3, 4
    ) as by_party
    group by 1, 2, 3, 4
    {%- endfor %}
),

flows as (
    select
        sums.*,
        coalesce(party_squares.inflow_sq, 0) as inflow_sq,
        coalesce(party_squares.outflow_sq, 0) as outflow_sq
    from (
        select * from totals
        union all
        select * from breakdowns
    ) as sums
    left join party_squares
        on sums.enterprise_id = party_squares.enterprise_id
        and sums.period = party_squares.period
        and sums.dimension is not distinct from party_squares.dimension
        and sums.dimension_value is not distinct from party_squares.dimension_value
),

final as (
    select
        flows.enterprise_id,
        enterprise_periods.ent_type,
        flows.period,
        enterprise_periods.period_end,
        flows.dimension,
        flows.dimension_value,
        flows.inflow,
        flows.outflow,
        flows.inflow_legs,
        flows.outflow_legs,
        flows.inflow_sq,
        flows.outflow_sq
    from flows
    inner join enterprise_periods
        on flows.enterprise_id = enterprise_periods.enterprise_id
        and flows.period = enterprise_periods.period
)

select * from final
