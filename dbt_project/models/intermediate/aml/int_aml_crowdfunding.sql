-- AML-007 Crowdfunding typology (indicators.md, CF): a campaign's funds are the legs with its
-- campaign_id credited to accounts with its campaign_id (receipts) and the legs debiting those accounts
-- to anything but another of its accounts (withdrawals).
--   rapid_withdrawal:    a withdrawal at least min_withdraw_share of which was received in the
--                        withdraw_hours before it;
--   donor_concentration: in a campaign with >= min_backers distinct backers (by id_hash, receipts up to
--                        the period end), the top_donors largest backers gave > max_top_share.
-- One row per (hit, leg): the evidence; the hit is the campaign owner's (the owner of its accounts).

with

legs as (
    select * from {{ ref('int_aml_legs') }}
    where ent_type = 'CF'
),

campaign_accounts as (
    select * from {{ ref('stg_filings__accounts') }}
    where campaign_id is not null
),

receipts as (
    select
        legs.enterprise_id,
        legs.ent_type,
        legs.period,
        legs.campaign_id,
        campaign_accounts.owner_party_id,
        legs.txn_id,
        legs.booked_at,
        {{ epoch_seconds('legs.booked_at') }} as booked_epoch,
        legs.amount_cny,
        coalesce(legs.payer_id_hash, legs.payer_party_id) as backer
    from legs
    inner join campaign_accounts
        on legs.submission_id = campaign_accounts.submission_id
        and legs.credit_account_id = campaign_accounts.account_id
        and legs.campaign_id = campaign_accounts.campaign_id
),

withdrawals as (
    select
        legs.enterprise_id,
        legs.ent_type,
        legs.period,
        campaign_accounts.campaign_id,
        campaign_accounts.owner_party_id,
        legs.txn_id,
        legs.booked_at,
        {{ epoch_seconds('legs.booked_at') }} as booked_epoch,
        legs.amount_cny,
        withdraw_hours.value * 3600 as window_seconds,
        min_withdraw_share.value as min_withdraw_share
    from legs
    inner join campaign_accounts
        on legs.submission_id = campaign_accounts.submission_id
        and legs.debit_account_id = campaign_accounts.account_id
    left join campaign_accounts as to_campaign
        on legs.submission_id = to_campaign.submission_id
        and legs.credit_account_id = to_campaign.account_id
        and to_campaign.campaign_id = campaign_accounts.campaign_id
    {{ join_threshold('withdraw_hours', 'legs.ent_type', period_end('legs.period'), indicator='AML-007') }}
    {{ join_threshold('min_withdraw_share', 'legs.ent_type', period_end('legs.period'), indicator='AML-007') }}
    where to_campaign.account_id is null
        and legs.purpose not in ('fee')
),

rapid as (
    select
        withdrawals.enterprise_id,
        withdrawals.ent_type,
        withdrawals.period,
        withdrawals.campaign_id,
        withdrawals.owner_party_id,
        withdrawals.txn_id as withdrawal_txn_id,
        withdrawals.booked_at as withdrawal_booked_at,
        withdrawals.amount_cny as withdrawal_amount,
        withdrawals.min_withdraw_share,
        receipts.txn_id,
        receipts.booked_at,
        receipts.amount_cny,
        sum(receipts.amount_cny) over (partition by withdrawals.enterprise_id, withdrawals.txn_id)
            as recent_receipts
    from withdrawals
    inner join receipts
        on withdrawals.enterprise_id = receipts.enterprise_id
        and withdrawals.campaign_id = receipts.campaign_id
        and receipts.booked_epoch <= withdrawals.booked_epoch
        and receipts.booked_epoch > withdrawals.booked_epoch - withdrawals.window_seconds
),

rapid_hits as (
    select distinct
        enterprise_id, ent_type, period, campaign_id, owner_party_id, withdrawal_txn_id as pattern_id,
        withdrawal_txn_id as txn_id, withdrawal_booked_at as booked_at, withdrawal_amount as amount_cny
    from rapid
    where recent_receipts >= min_withdraw_share * withdrawal_amount
    union all
    select
        enterprise_id, ent_type, period, campaign_id, owner_party_id, withdrawal_txn_id, txn_id, booked_at,
        amount_cny
    from rapid
    where recent_receipts >= min_withdraw_share * withdrawal_amount
),

campaign_periods as (
    select distinct enterprise_id, ent_type, period, campaign_id, owner_party_id from receipts
),

backers as (
    select
        campaign_periods.enterprise_id,
        campaign_periods.ent_type,
        campaign_periods.period,
        campaign_periods.campaign_id,
        campaign_periods.owner_party_id,
        receipts.backer,
        sum(receipts.amount_cny) as given
    from campaign_periods
    inner join receipts
        on campaign_periods.enterprise_id = receipts.enterprise_id
        and campaign_periods.campaign_id = receipts.campaign_id
        and receipts.period <= campaign_periods.period
    group by all
),

ranked_backers as (
    select
        backers.*,
        row_number() over (
            partition by backers.enterprise_id, backers.period, backers.campaign_id
            order by backers.given desc, backers.backer asc nulls last
        ) as backer_rank,
        count(*) over (partition by backers.enterprise_id, backers.period, backers.campaign_id) as n_backers,
        sum(backers.given) over (partition by backers.enterprise_id, backers.period, backers.campaign_id)
            as campaign_total
    from backers
),

concentrated as (
    select
        ranked_backers.*,
        sum(case when ranked_backers.backer_rank <= top_donors.value then ranked_backers.given else 0 end)
            over (partition by ranked_backers.enterprise_id, ranked_backers.period, ranked_backers.campaign_id)
            as top_given,
        top_donors.value as top_donors,
        min_backers.value as min_backers,
        max_top_share.value as max_top_share
    from ranked_backers
    {{ join_threshold('top_donors', 'ranked_backers.ent_type', period_end('ranked_backers.period'), indicator='AML-007') }}
    {{ join_threshold('min_backers', 'ranked_backers.ent_type', period_end('ranked_backers.period'), indicator='AML-007') }}
    {{ join_threshold('max_top_share', 'ranked_backers.ent_type', period_end('ranked_backers.period'), indicator='AML-007') }}
),

concentration_hits as (
    select
        concentrated.enterprise_id,
        concentrated.ent_type,
        concentrated.period,
        concentrated.campaign_id,
        concentrated.owner_party_id,
        concentrated.campaign_id as pattern_id,
        receipts.txn_id,
        receipts.booked_at,
        receipts.amount_cny
    from concentrated
    inner join receipts
        on concentrated.enterprise_id = receipts.enterprise_id
        and concentrated.campaign_id = receipts.campaign_id
        and concentrated.backer = receipts.backer
        and receipts.period <= concentrated.period
    where concentrated.backer_rank <= concentrated.top_donors
        and concentrated.n_backers >= concentrated.min_backers
        and concentrated.top_given > concentrated.max_top_share * concentrated.campaign_total
),

final as (
    {%- for metric, hits in [('rapid_withdrawal', 'rapid_hits'), ('donor_concentration', 'concentration_hits')] %}
    select
        enterprise_id,
        ent_type,
        period,
        'AML-007' as indicator_id,
        '{{ metric }}' as metric,
        owner_party_id as party_id,
        pattern_id,
        txn_id,
        booked_at,
        amount_cny
    from {{ hits }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from final
