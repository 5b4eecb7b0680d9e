-- Every `ok` customer leg seen from the owner of each customer account it moves (indicators.md, AML):
-- direction `in` for the credited account's owner, `out` for the debited one's (a payment between two
-- customers gives two rows), the counterparty (payer of an `in`, payee of an `out`) and its id_hash, and
-- the owner's running balance over all its customer accounts after the leg (the period's openings plus
-- the period's legs in booking order). Also the account's previous activity: its previous `ok` leg in the
-- warehouse or, failing that, its last_activity_date. AML-003, AML-004 and AML-006 read this model.

with

legs as (
    select * from {{ ref('int_aml_legs') }}
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

final as (
    select
        owner_legs.*,
        coalesce(openings.opening, 0) + sum(owner_legs.signed_amount) over (
            partition by owner_legs.enterprise_id, owner_legs.period, owner_legs.party_id
            order by owner_legs.booked_at, owner_legs.txn_id, owner_legs.direction
            rows between unbounded preceding and current row
        ) as balance_after,
        greatest(
            lag(owner_legs.booked_date_sh) over (
                partition by owner_legs.enterprise_id, owner_legs.account_id
                order by owner_legs.booked_at, owner_legs.txn_id, owner_legs.direction
            ),
            owner_legs.last_activity_date
        ) as previous_activity_date
    from owner_legs
    left join openings
        on owner_legs.enterprise_id = openings.enterprise_id
        and owner_legs.period = openings.period
        and owner_legs.party_id = openings.party_id
)

select * from final
