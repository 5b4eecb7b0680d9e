-- AML-005 Round trip (indicators.md): a chain of <= max_hops typology transfers within window_days, each
-- hop booked later than the one before, that brings >= min_return_share of the first hop's value back to
-- the originator or to a party with the same id_hash. A bounded-depth recursive search over the transfer
-- graph of each enterprise, nodes being id_hashes, pruned hard: only transfers >= min_hop_amount between
-- parties that have both incoming and outgoing such transfers, a chain never revisits a node, and every
-- hop must carry >= min_return_share of the first (a chain that splits the money is not followed).
-- One row per (closed chain, transfer in it): the evidence; the hit is the originator's (its party on
-- the first hop) in the period of the closing hop.

with recursive

legs as (
    select * from {{ ref('int_aml_legs') }}
    where is_typology_edge
        and payer_id_hash is not null
        and payee_id_hash is not null
),

params as (
    select
        ent_types.ent_type,
        ent_types.period,
        cast(max_hops.value as integer) as max_hops,
        window_days.value * 86400 as window_seconds,
        min_return_share.value as min_return_share,
        min_hop_amount.value as min_hop_amount
    from (select distinct ent_type, period from legs) as ent_types
    {%- for param in ['max_hops', 'window_days', 'min_return_share', 'min_hop_amount'] %}
    {{ join_threshold(param, 'ent_types.ent_type', period_end('ent_types.period'), indicator='AML-005') }}
    {%- endfor %}
),

large_edges as (
    select
        legs.enterprise_id,
        legs.period,
        legs.txn_id,
        legs.payer_party_id,
        legs.payer_id_hash,
        legs.payee_id_hash,
        {{ epoch_seconds('legs.booked_at') }} as booked_epoch,
        legs.booked_at,
        legs.amount_cny,
        params.max_hops,
        params.window_seconds,
        params.min_return_share
    from legs
    inner join params
        on legs.ent_type = params.ent_type
        and legs.period = params.period
    where legs.amount_cny >= params.min_hop_amount
),

receivers as (
    select distinct enterprise_id, payee_id_hash as id_hash from large_edges
),

senders as (
    select distinct enterprise_id, payer_id_hash as id_hash from large_edges
),

edges as (
    select large_edges.*
    from large_edges
    inner join receivers as payer_receives
        on large_edges.enterprise_id = payer_receives.enterprise_id
        and large_edges.payer_id_hash = payer_receives.id_hash
    inner join senders as payee_sends
        on large_edges.enterprise_id = payee_sends.enterprise_id
        and large_edges.payee_id_hash = payee_sends.id_hash
),

chains as (
    select
        enterprise_id,
        payer_party_id as origin_party_id,
        payer_id_hash as origin_id_hash,
        amount_cny as first_amount,
        booked_epoch as first_epoch,
        max_hops,
        window_seconds,
        min_return_share,
        payee_id_hash as last_id_hash,
        booked_epoch as last_epoch,
        period as last_period,
        amount_cny as last_amount,
        1 as hops,
        {{ aml_list(['txn_id']) }} as txn_ids,
        {{ aml_list(['payer_id_hash', 'payee_id_hash']) }} as nodes,
        false as is_closed
    from edges

    union all

    select
        chains.enterprise_id,
        chains.origin_party_id,
        chains.origin_id_hash,
        chains.first_amount,
        chains.first_epoch,
        chains.max_hops,
        chains.window_seconds,
        chains.min_return_share,
        edges.payee_id_hash,
        edges.booked_epoch,
        edges.period,
        edges.amount_cny,
        chains.hops + 1,
        {{ aml_list_append('chains.txn_ids', 'edges.txn_id') }},
        {{ aml_list_append('chains.nodes', 'edges.payee_id_hash') }},
        edges.payee_id_hash = chains.origin_id_hash
    from chains
    inner join edges
        on chains.enterprise_id = edges.enterprise_id
        and chains.last_id_hash = edges.payer_id_hash
        and edges.booked_epoch > chains.last_epoch
        and edges.booked_epoch <= chains.first_epoch + chains.window_seconds
        and edges.amount_cny >= chains.min_return_share * chains.first_amount
        and (
            edges.payee_id_hash = chains.origin_id_hash
            or not {{ aml_list_contains('chains.nodes', 'edges.payee_id_hash') }}
        )
    where not chains.is_closed
        and chains.hops < chains.max_hops
),

closed as (
    select
        *,
        {{ aml_list_join('txn_ids', "'>'") }} as pattern_id
    from chains
    where is_closed
        and last_amount >= min_return_share * first_amount
),

final as (
    select
        closed.enterprise_id,
        {{ ent_type_of('closed.enterprise_id') }} as ent_type,
        closed.last_period as period,
        'AML-005' as indicator_id,
        'round_trip' as metric,
        closed.origin_party_id as party_id,
        closed.pattern_id,
        members.txn_id,
        members.booked_at,
        members.amount_cny
    from closed
    {{ aml_cross_join_unnest('closed.txn_ids', 'chain_txns', 'txn_id') }}
    inner join edges as members
        on closed.enterprise_id = members.enterprise_id
        and chain_txns.txn_id = members.txn_id
)

select * from final
