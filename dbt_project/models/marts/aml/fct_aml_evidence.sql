-- The evidence of every AML alert (indicators.md, AML): one row per (enterprise, period, indicator,
-- metric, party, transaction). For AML-002..AML-007 the transactions of the patterns that fired for the
-- party (its hit in fct_aml_typologies: dimension 'party', dimension_value = party_id); for AML-001 the
-- large-value transactions found unreported (party = the side that made them large-value).
-- pattern_id names one pattern the transaction belongs to (the closing or opening transaction, the
-- chain, the campaign); `patterns` counts the party's patterns that include it.

with

hits as (
    {%- for model in ['int_aml_structuring', 'int_aml_pass_through', 'int_aml_fan', 'int_aml_round_trip',
                      'int_aml_dormant', 'int_aml_crowdfunding'] %}
    select enterprise_id, period, indicator_id, metric, party_id, pattern_id, txn_id, booked_at, amount_cny
    from {{ ref(model) }}
    union all
    {%- endfor %}
    select
        enterprise_id,
        period,
        'AML-001' as indicator_id,
        'capture_ratio' as metric,
        party_id,
        txn_id as pattern_id,
        txn_id,
        cast(null as {{ type_timestamptz() }}) as booked_at,
        amount_cny
    from {{ ref('int_aml_large_value') }}
    where not is_reported
        and not is_pending
),

final as (
    select
        enterprise_id,
        period,
        indicator_id,
        metric,
        party_id,
        txn_id,
        min(pattern_id) as pattern_id,
        count(distinct pattern_id) as patterns,
        min(booked_at) as booked_at,
        min(amount_cny) as amount_cny,
        {{ as_of_timestamp() }} as computed_at
    from hits
    group by enterprise_id, period, indicator_id, metric, party_id, txn_id
)

select * from final
