-- Active customers (indicators.md): parties owning a CUSTOMER_* account that appear, as payer or payee,
-- on an `ok` customer leg in the period. One row per enterprise x period x party.

with

accounts as (
    select * from {{ ref('stg_filings__accounts') }}
),

legs as (
    select * from {{ ref('int_customer_legs_classified') }}
),

account_owners as (
    select distinct
        submission_id,
        enterprise_id,
        period,
        owner_party_id as party_id
    from accounts
    where account_class in ('CUSTOMER_WALLET', 'CUSTOMER_SUB')
        and owner_party_id is not null
),

leg_parties as (
    select submission_id, payer_party_id as party_id from legs
    where payer_party_id is not null
    union
    select submission_id, payee_party_id as party_id from legs
    where payee_party_id is not null
),

active as (
    select
        account_owners.enterprise_id,
        account_owners.period,
        account_owners.party_id
    from account_owners
    inner join leg_parties
        on account_owners.submission_id = leg_parties.submission_id
        and account_owners.party_id = leg_parties.party_id
)

select * from active
