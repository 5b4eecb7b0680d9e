-- AML-002 Structuring (indicators.md): a party makes >= min_count typology transactions in
-- [near_share x T, T) within window_days totalling >= T (T = its large-value threshold for the kind).
-- Every such transaction closes a window looking back window_days over the party's near-threshold
-- transactions of the same kind; one row per (window that fires, transaction in it): the evidence.
-- The hit belongs to the period of the transaction that completes the pattern.

with

legs as (
    select * from {{ ref('int_aml_legs') }}
    where is_typology_edge
),

near_threshold as (
    select
        legs.enterprise_id,
        legs.ent_type,
        legs.period,
        legs.txn_id,
        legs.booked_at,
        legs.amount_cny,
        legs.lv_kind,
        legs.payer_party_id as party_id,
        legs.payer_lv_threshold as lv_threshold,
        window_days.value as window_days,
        min_count.value as min_count
    from legs
    {{ join_threshold('near_share', 'legs.ent_type', period_end('legs.period'), indicator='AML-002') }}
    {{ join_threshold('window_days', 'legs.ent_type', period_end('legs.period'), indicator='AML-002') }}
    {{ join_threshold('min_count', 'legs.ent_type', period_end('legs.period'), indicator='AML-002') }}
    where legs.amount_cny >= near_share.value * legs.payer_lv_threshold
        and legs.amount_cny < legs.payer_lv_threshold
),

windows as (
    select
        closing.enterprise_id,
        closing.ent_type,
        closing.period,
        closing.txn_id as closing_txn_id,
        closing.party_id,
        closing.lv_threshold,
        closing.min_count,
        member.txn_id,
        member.booked_at,
        member.amount_cny,
        count(*) over (partition by closing.enterprise_id, closing.txn_id) as window_count,
        sum(member.amount_cny) over (partition by closing.enterprise_id, closing.txn_id) as window_total
    from near_threshold as closing
    inner join near_threshold as member
        on closing.enterprise_id = member.enterprise_id
        and closing.party_id = member.party_id
        and closing.lv_kind = member.lv_kind
        and member.booked_at <= closing.booked_at
        and member.booked_at > {{ add_days('closing.booked_at', '-closing.window_days') }}
),

final as (
    select
        enterprise_id,
        ent_type,
        period,
        'AML-002' as indicator_id,
        'structuring' as metric,
        party_id,
        closing_txn_id as pattern_id,
        txn_id,
        booked_at,
        amount_cny
    from windows
    where window_count >= min_count
        and window_total >= lv_threshold
)

select * from final
