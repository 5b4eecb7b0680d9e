-- Relative screens of the party risk ranking (issue 16): what is unusual for this party, judged against
-- its own history rather than fixed CNY floors. Not an indicator and raises no alert: fct_aml_party_risk
-- scores these rows, and every row is a transaction an investigator can open.
--   amount_outlier: a typology leg (int_aml_party_legs.is_typology_edge) of the period whose amount is at
--     least `outlier_factor` times above or below the party's usual amount, the median of its typology
--     legs booked in the `lookback_days` up to the period end (this period and the ones before it the
--     warehouse holds), judged only with >= `min_history_legs` such legs. A money mule or a collection
--     account moves amounts unlike its own everyday payments, whatever the filer's scale.
-- Parameters are dbt vars (defaults below; `dbt build --vars '{aml_rank_lookback_days: 183}'`).
{%- set lookback_days = var('aml_rank_lookback_days', 92) %}
{%- set min_history_legs = var('aml_rank_min_history_legs', 5) %}
{%- set outlier_factor = var('aml_rank_outlier_factor', 5) %}

with

party_legs as (
    select * from {{ ref('int_aml_party_legs') }}
    where is_typology_edge
        and amount_cny > 0
),

periods as (
    select distinct
        enterprise_id,
        period,
        {{ period_end('period') }} as period_end
    from party_legs
),

history as (
    select
        periods.enterprise_id,
        periods.period,
        party_legs.party_id,
        percentile_cont(0.5) within group (order by party_legs.amount_cny) as usual_amount,
        count(*) as history_legs
    from periods
    inner join party_legs
        on periods.enterprise_id = party_legs.enterprise_id
        and party_legs.booked_date_sh <= periods.period_end
        and party_legs.booked_date_sh > {{ dbt.dateadd('day', -lookback_days, 'periods.period_end') }}
    group by periods.enterprise_id, periods.period, party_legs.party_id
),

outliers as (
    select
        party_legs.enterprise_id,
        party_legs.period,
        party_legs.party_id,
        'amount_outlier' as signal,
        party_legs.txn_id,
        party_legs.direction,
        party_legs.booked_at,
        party_legs.amount_cny,
        history.usual_amount,
        history.history_legs
    from party_legs
    inner join history
        on party_legs.enterprise_id = history.enterprise_id
        and party_legs.period = history.period
        and party_legs.party_id = history.party_id
    where history.history_legs >= {{ min_history_legs }}
        and history.usual_amount > 0
        and (
            party_legs.amount_cny >= {{ outlier_factor }} * history.usual_amount
            or party_legs.amount_cny * {{ outlier_factor }} <= history.usual_amount
        )
),

final as (
    select
        cast(enterprise_id as {{ dbt.type_string() }}) as enterprise_id,
        cast(period as {{ dbt.type_string() }}) as period,
        cast(party_id as {{ dbt.type_string() }}) as party_id,
        cast(signal as {{ dbt.type_string() }}) as signal,
        cast(txn_id as {{ dbt.type_string() }}) as txn_id,
        cast(direction as {{ dbt.type_string() }}) as direction,
        cast(booked_at as {{ type_timestamptz() }}) as booked_at,
        cast(amount_cny as decimal(20, 2)) as amount_cny,
        cast(usual_amount as {{ type_double() }}) as usual_amount,
        cast(history_legs as bigint) as history_legs,
        {{ as_of_timestamp() }} as computed_at
    from outliers
)

select * from final
