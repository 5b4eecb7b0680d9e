-- Party risk ranking (issue 16): one row per enterprise x period x party that is payer or payee of an `ok`
-- customer leg (int_aml_legs) or that some AML evidence names: what an investigator would open first.
--   typology_ids / typologies: the AML-002..AML-007 indicators whose patterns named the party (its rows of
--     fct_aml_evidence), typology_txns their distinct transactions;
--   unreported_large_value: its AML-001 evidence (large-value transactions found unreported);
--   amount_outliers: its fct_aml_party_signals rows (amounts far from its own usual);
--   legs: the legs it is payer or payee of (the naive baseline `suptech evaluate --labels` compares with).
--   alerts: the AML indicators (AML-001..AML-007) whose evidence names the party.
-- score = alert_weight x alerts + least(unreported_large_value + amount_outliers, alert_weight - 1): every
-- party an alert names ranks above every party that only looks unusual (a merchant with hundreds of
-- outlying takings cannot outrank a typology), and the counts order parties within each tier.
-- risk_rank = 1, 2, ... within the enterprise x period by score (highest first), ties by party_id; null
-- when the score is 0. Every point traces to evidence
-- rows by (enterprise_id, period, party_id): fct_aml_evidence and fct_aml_party_signals.
{%- set alert_weight = var('aml_rank_alert_weight', 10) %}

with

legs as (
    select * from {{ ref('int_aml_legs') }}
),

evidence as (
    select * from {{ ref('fct_aml_evidence') }}
    where party_id is not null
),

signals as (
    select * from {{ ref('fct_aml_party_signals') }}
),

activity as (
    select enterprise_id, period, party_id, count(*) as legs
    from (
        select enterprise_id, period, payer_party_id as party_id
        from legs
        where payer_party_id is not null
        union all
        select enterprise_id, period, payee_party_id as party_id
        from legs
        where payee_party_id is not null
    ) as sides
    group by enterprise_id, period, party_id
),

typologies as (
    select
        enterprise_id,
        period,
        party_id,
        count(distinct indicator_id) as typologies,
        {{ aml_string_agg_distinct_sorted('indicator_id', "' '") }} as typology_ids,
        count(distinct txn_id) as typology_txns
    from evidence
    where indicator_id <> 'AML-001'
    group by enterprise_id, period, party_id
),

large_value as (
    select enterprise_id, period, party_id, count(distinct txn_id) as unreported_large_value
    from evidence
    where indicator_id = 'AML-001'
    group by enterprise_id, period, party_id
),

outliers as (
    select enterprise_id, period, party_id, count(distinct txn_id) as amount_outliers
    from signals
    where signal = 'amount_outlier'
    group by enterprise_id, period, party_id
),

parties as (
    select enterprise_id, period, party_id from activity
    union
    select enterprise_id, period, party_id from typologies
    union
    select enterprise_id, period, party_id from large_value
    union
    select enterprise_id, period, party_id from outliers
),

scored as (
    select
        parties.enterprise_id,
        parties.period,
        parties.party_id,
        coalesce(activity.legs, 0) as legs,
        typologies.typology_ids,
        coalesce(typologies.typologies, 0) as typologies,
        coalesce(typologies.typology_txns, 0) as typology_txns,
        coalesce(large_value.unreported_large_value, 0) as unreported_large_value,
        coalesce(outliers.amount_outliers, 0) as amount_outliers,
        coalesce(typologies.typologies, 0)
        + case when large_value.unreported_large_value > 0 then 1 else 0 end as alerts,
        {{ alert_weight }} * (
            coalesce(typologies.typologies, 0) + case when large_value.unreported_large_value > 0 then 1 else 0 end
        )
        + least(
            coalesce(large_value.unreported_large_value, 0) + coalesce(outliers.amount_outliers, 0),
            {{ alert_weight }} - 1
        ) as score
    from parties
    left join activity
        on parties.enterprise_id = activity.enterprise_id
        and parties.period = activity.period
        and parties.party_id = activity.party_id
    left join typologies
        on parties.enterprise_id = typologies.enterprise_id
        and parties.period = typologies.period
        and parties.party_id = typologies.party_id
    left join large_value
        on parties.enterprise_id = large_value.enterprise_id
        and parties.period = large_value.period
        and parties.party_id = large_value.party_id
    left join outliers
        on parties.enterprise_id = outliers.enterprise_id
        and parties.period = outliers.period
        and parties.party_id = outliers.party_id
),

ranked as (
    select
        *,
        case when score > 0 then row_number() over (
            partition by enterprise_id, period, score > 0
            order by score desc, party_id asc
        ) end as risk_rank
    from scored
),

final as (
    select
        cast(enterprise_id as {{ dbt.type_string() }}) as enterprise_id,
        cast(period as {{ dbt.type_string() }}) as period,
        cast(party_id as {{ dbt.type_string() }}) as party_id,
        cast(legs as bigint) as legs,
        cast(typology_ids as {{ dbt.type_string() }}) as typology_ids,
        cast(typologies as bigint) as typologies,
        cast(typology_txns as bigint) as typology_txns,
        cast(unreported_large_value as bigint) as unreported_large_value,
        cast(amount_outliers as bigint) as amount_outliers,
        cast(alerts as bigint) as alerts,
        cast(score as {{ type_double() }}) as score,
        cast(risk_rank as bigint) as risk_rank,
        {{ as_of_timestamp() }} as computed_at
    from ranked
)

select * from final
