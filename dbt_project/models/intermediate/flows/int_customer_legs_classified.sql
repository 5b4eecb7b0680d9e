-- The `ok` customer legs of the current versions, each with the classes of the accounts it moves and
-- its direction (indicators.md): inflow = no debit account (money from outside into a customer account),
-- outflow = no credit account, internal = between accounts of the enterprise. The external-side party
-- is the payer of an inflow and the payee of an outflow; its related-party flag comes from parties.

-- Incremental by enterprise x period (macros/incremental.sql).
-- depends_on: {{ ref('int_partitions_to_rebuild') }}
{{ config(materialized=partition_materialization(), pre_hook="{{ delete_rebuilt_partitions() }}") }}

with

transactions as (
    {{ rebuilt_partitions(ref('stg_filings__transactions')) }}
),

accounts as (
    select * from {{ ref('stg_filings__accounts') }}
),

parties as (
    select * from {{ ref('stg_filings__parties') }}
),

customer_legs as (
    select *
    from transactions
    where leg = 'customer'
        and status = 'ok'
),

classified as (
    select
        customer_legs.enterprise_id,
        customer_legs.period,
        customer_legs.submission_id,
        customer_legs.txn_id,
        customer_legs.event_id,
        customer_legs.value_date,
        customer_legs.booked_at,
        customer_legs.booked_date_sh,
        customer_legs.debit_account_id,
        debit_accounts.account_class as debit_account_class,
        customer_legs.credit_account_id,
        credit_accounts.account_class as credit_account_class,
        customer_legs.payer_party_id,
        customer_legs.payee_party_id,
        customer_legs.amount_cny,
        customer_legs.channel,
        customer_legs.purpose,
        customer_legs.loan_id,
        customer_legs.investment_id,
        customer_legs.campaign_id,
        customer_legs.is_cross_border,
        customer_legs.cp_country,
        customer_legs.cp_region,
        customer_legs.cp_sector,
        customer_legs.reverses_txn_id,
        case
            when customer_legs.debit_account_id is null then 'inflow'
            when customer_legs.credit_account_id is null then 'outflow'
            else 'internal'
        end as flow_direction,
        case
            when customer_legs.debit_account_id is null then customer_legs.payer_party_id
            when customer_legs.credit_account_id is null then customer_legs.payee_party_id
        end as external_party_id
    from customer_legs
    left join accounts as debit_accounts
        on customer_legs.submission_id = debit_accounts.submission_id
        and customer_legs.debit_account_id = debit_accounts.account_id
    left join accounts as credit_accounts
        on customer_legs.submission_id = credit_accounts.submission_id
        and customer_legs.credit_account_id = credit_accounts.account_id
),

final as (
    select
        classified.*,
        external_parties.is_related_party as external_party_is_related
    from classified
    left join parties as external_parties
        on classified.submission_id = external_parties.submission_id
        and classified.external_party_id = external_parties.party_id
)

select * from final
