-- Every `ok` customer leg seen from the owner of each customer account it moves (indicators.md, AML):
-- direction `in` for the credited account's owner, `out` for the debited one's (a payment between two
-- customers gives two rows), the counterparty (payer of an `in`, payee of an `out`) and its id_hash, and
-- the owner's running balance over all its customer accounts after the leg (the period's openings plus
-- the period's legs in booking order). Also the account's previous activity: its previous `ok` leg in the
-- warehouse or, failing that, its last_activity_date. AML-003, AML-004 and AML-006 read this model.

-- Incremental by enterprise x period (macros/incremental.sql): a run rebuilds the partitions of
-- int_partitions_to_rebuild; an account's previous leg may lie in a partition kept from an earlier build,
-- so the lag also sees the kept legs it can reach (`context_legs`).
-- depends_on: {{ ref('int_partitions_to_rebuild') }}
{{ config(materialized=partition_materialization(), pre_hook="{{ delete_rebuilt_partitions() }}") }}

with

legs as (
    {{ rebuilt_partitions(ref('int_aml_legs')) }}
),

accounts as (
    select * from {{ ref('stg_filings__accounts') }}
    where account_class in ('CUSTOMER_WALLET', 'CUSTOMER_SUB')
        and owner_party_id is not null
),

balances as (
    select * from {{ ref('stg_filings__account_balances') }}
),

owner_legs as (
    {%- for direction, own, other in [('in', 'credit', 'payer'), ('out', 'debit', 'payee')] %}
    select
        legs.enterprise_id,
        legs.ent_type,
        legs.period,
        accounts.owner_party_id as party_id,
        accounts.account_id,
        accounts.last_activity_date,
        legs.txn_id,
        legs.booked_at,
        legs.booked_date_sh,
        {{ epoch_seconds('legs.booked_at') }} as booked_epoch,
        '{{ direction }}' as direction,
        {{ '' if direction == 'in' else '-' }}legs.amount_cny as signed_amount,
        legs.amount_cny,
        legs.purpose,
        legs.is_typology_edge,
        legs.{{ other }}_party_id as counterparty_party_id,
        legs.{{ other }}_id_hash as counterparty_id_hash
    from legs
    inner join accounts
        on legs.submission_id = accounts.submission_id
        and legs.{{ own }}_account_id = accounts.account_id
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

openings as (
    select
        accounts.submission_id,
        accounts.enterprise_id,
        accounts.period,
        accounts.owner_party_id as party_id,
        sum(balances.opening) as opening
    from accounts
    inner join balances
        on accounts.submission_id = balances.submission_id
        and accounts.account_id = balances.account_id
    group by accounts.submission_id, accounts.enterprise_id, accounts.period, accounts.owner_party_id
),

{%- if is_incremental() %}

-- The legs of the same enterprises in kept partitions that an account's previous leg can be: every one
-- booked at or after the enterprise's first rebuilt leg, and the last one before it per account.
first_rebuilt as (
    select
        enterprise_id,
        min(booked_at) as first_booked_at
    from owner_legs
    group by enterprise_id
),

kept_legs as (
    select
        kept.enterprise_id,
        kept.account_id,
        kept.txn_id,
        kept.direction,
        kept.booked_at,
        kept.booked_date_sh,
        kept.booked_at >= first_rebuilt.first_booked_at as is_after_first
    from {{ this }} as kept
    inner join first_rebuilt
        on kept.enterprise_id = first_rebuilt.enterprise_id
    where not exists (
        select 1 from {{ ref('int_partitions_to_rebuild') }} as rebuilt
        where rebuilt.enterprise_id = kept.enterprise_id and rebuilt.period = kept.period
    )
),

context_legs as (
    select
        enterprise_id,
        account_id,
        txn_id,
        direction,
        booked_at,
        booked_date_sh
    from kept_legs
    where is_after_first
    union all
    select
        enterprise_id,
        account_id,
        null as txn_id,
        null as direction,
        max(booked_at) as booked_at,
        max(booked_date_sh) as booked_date_sh
    from kept_legs
    where not is_after_first
    group by enterprise_id, account_id
),
{%- endif %}

sequenced as (
    select
        owner_legs.*,
        true as is_rebuilt
    from owner_legs
    {%- if is_incremental() %}
    union all by name
    select
        context_legs.*,
        false as is_rebuilt
    from context_legs
    {%- endif %}
),

with_previous as (
    select
        sequenced.*,
        lag(sequenced.booked_date_sh) over (
            partition by sequenced.enterprise_id, sequenced.account_id
            order by sequenced.booked_at, sequenced.txn_id, sequenced.direction
        ) as previous_leg_date
    from sequenced
),

final as (
    select
        with_previous.enterprise_id,
        with_previous.ent_type,
        with_previous.period,
        with_previous.party_id,
        with_previous.account_id,
        with_previous.last_activity_date,
        with_previous.txn_id,
        with_previous.booked_at,
        with_previous.booked_date_sh,
        with_previous.booked_epoch,
        with_previous.direction,
        with_previous.signed_amount,
        with_previous.amount_cny,
        with_previous.purpose,
        with_previous.is_typology_edge,
        with_previous.counterparty_party_id,
        with_previous.counterparty_id_hash,
        coalesce(openings.opening, 0) + sum(with_previous.signed_amount) over (
            partition by with_previous.enterprise_id, with_previous.period, with_previous.party_id
            order by with_previous.booked_at, with_previous.txn_id, with_previous.direction
            rows between unbounded preceding and current row
        ) as balance_after,
        greatest(with_previous.previous_leg_date, with_previous.last_activity_date) as previous_activity_date
    from with_previous
    left join openings
        on with_previous.enterprise_id = openings.enterprise_id
        and with_previous.period = openings.period
        and with_previous.party_id = openings.party_id
    where with_previous.is_rebuilt
)

select * from final
