-- The `ok` customer legs the AML indicators read (indicators.md, AML), one row per leg, with the payer's
-- and payee's id_hash and party type, the large-value kind (cash when the channel is cash, else a
-- cross-border or domestic transfer) and the large-value threshold T of the leg's payer and payee for
-- that kind (seed rows of AML-001, valid on the Shanghai booking day). `is_typology_edge` marks the legs
-- AML-002..AML-006 look at: purpose payment, top_up, withdrawal or internal, not part of a reversal pair,
-- and not between two parties with the same id_hash (a top-up from one's own card is no edge).

-- Incremental by enterprise x period (macros/incremental.sql): a run rebuilds the partitions of
-- int_partitions_to_rebuild, reading reversals from all of the enterprise's legs.
-- depends_on: {{ ref('int_partitions_to_rebuild') }}
{{ config(materialized=partition_materialization(), pre_hook="{{ delete_rebuilt_partitions() }}") }}

with

legs as (
    {{ rebuilt_partitions(ref('int_customer_legs_classified')) }}
),

parties as (
    select * from {{ ref('stg_filings__parties') }}
),

reversed as (
    select distinct enterprise_id, reverses_txn_id as txn_id
    from {{ ref('int_customer_legs_classified') }}
    where reverses_txn_id is not null
),

with_parties as (
    select
        legs.enterprise_id,
        {{ ent_type_of('legs.enterprise_id') }} as ent_type,
        legs.period,
        legs.submission_id,
        legs.txn_id,
        legs.event_id,
        legs.booked_at,
        legs.booked_date_sh,
        legs.value_date,
        legs.debit_account_id,
        legs.debit_account_class,
        legs.credit_account_id,
        legs.credit_account_class,
        legs.payer_party_id,
        legs.payee_party_id,
        payers.id_hash as payer_id_hash,
        payees.id_hash as payee_id_hash,
        payers.party_type as payer_party_type,
        payees.party_type as payee_party_type,
        legs.amount_cny,
        legs.channel,
        legs.purpose,
        legs.campaign_id,
        legs.flow_direction,
        case
            when legs.channel = 'cash' then 'cash'
            when legs.is_cross_border then 'cross_border'
            else 'domestic'
        end as lv_kind,
        legs.purpose in ('payment', 'top_up', 'withdrawal', 'internal')
        and legs.reverses_txn_id is null
        and reversed.txn_id is null
        and legs.payer_party_id is not null
        and legs.payee_party_id is not null
        and (payers.id_hash is distinct from payees.id_hash) as is_typology_edge
    from legs
    left join parties as payers
        on legs.submission_id = payers.submission_id
        and legs.payer_party_id = payers.party_id
    left join parties as payees
        on legs.submission_id = payees.submission_id
        and legs.payee_party_id = payees.party_id
    left join reversed
        on legs.enterprise_id = reversed.enterprise_id
        and legs.txn_id = reversed.txn_id
),

final as (
    select
        with_parties.*,
        {%- for side in ['payer', 'payee'] %}
        case
            when with_parties.{{ side }}_party_id is null then null
            when with_parties.lv_kind = 'cash' then t_cash.value
            when with_parties.{{ side }}_party_type = 'legal' then t_legal_transfer.value
            when with_parties.lv_kind = 'cross_border' then t_natural_cross_border.value
            else t_natural_domestic.value
        end as {{ side }}_lv_threshold{{ ',' if not loop.last }}
        {%- endfor %}
    from with_parties
    {%- for param in ['t_cash', 't_legal_transfer', 't_natural_domestic', 't_natural_cross_border'] %}
    {{ join_threshold(param, 'with_parties.ent_type', 'with_parties.booked_date_sh', indicator='AML-001') }}
    {%- endfor %}
)

select * from final
