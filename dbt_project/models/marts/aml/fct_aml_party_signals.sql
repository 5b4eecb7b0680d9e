-- Relative screens of the party risk ranking (issue 16): what is unusual for this party, judged against
-- its own history rather than fixed CNY floors. Not an indicator and raises no alert: fct_aml_party_risk
-- scores these rows, and every row is a transaction an investigator can open.
--   amount_outlier: a typology leg (int_aml_party_legs.is_typology_edge) of the period whose amount is far
--     from the party's usual amount: |ln(amount / usual)| >= the larger of ln(`outlier_factor`) and
--     `outlier_z` robust standard deviations of the party's log amounts (1.4826 x their median absolute
--     deviation). usual = exp(median log amount) of its typology legs booked in the `lookback_days` up to
--     the period end (this period and the ones before it the warehouse holds), judged only with
--     >= `min_history_legs` such legs. A money mule or a collection account moves amounts unlike its own
--     everyday payments, whatever the filer's scale; a merchant whose takings always spread widely is not
--     unusual for taking a large or a small one.
-- Parameters are dbt vars (defaults below; `dbt build --vars '{aml_rank_lookback_days: 183}'`).
{%- set lookback_days = var('aml_rank_lookback_days', 92) %}
{%- set min_history_legs = var('aml_rank_min_history_legs', 5) %}
{%- set outlier_factor = var('aml_rank_outlier_factor', 5) %}
{%- set outlier_z = var('aml_rank_outlier_z', 3) %}

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

windowed as (
    select
        periods.enterprise_id,
        periods.period,
        party_legs.party_id,
        ln(party_legs.amount_cny) as log_amount
    from periods
    inner join party_legs
        on periods.enterprise_id = party_legs.enterprise_id
        and party_legs.booked_date_sh <= periods.period_end
        and party_legs.booked_date_sh > {{ dbt.dateadd('day', -lookback_days, 'periods.period_end') }}
),

centre as (
    select
        enterprise_id,
        period,
        party_id,
        percentile_cont(0.5) within group (order by log_amount) as usual_log,
        count(*) as history_legs
    from windowed
    group by enterprise_id, period, party_id
),

history as (
    select
        centre.enterprise_id,
        centre.period,
        centre.party_id,
        centre.usual_log,
        centre.history_legs,
        percentile_cont(0.5) within group (order by abs(windowed.log_amount - centre.usual_log)) as mad_log
    from centre
    inner join windowed
        on centre.enterprise_id = windowed.enterprise_id
        and centre.period = windowed.period
        and centre.party_id = windowed.party_id
    where centre.history_legs >= {{ min_history_legs }}
    group by centre.enterprise_id, centre.period, centre.party_id, centre.usual_log, centre.history_legs
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
        round(exp(history.usual_log), 2) as usual_amount,
        history.history_legs
    from party_legs
    inner join history
        on party_legs.enterprise_id = history.enterprise_id
        and party_legs.period = history.period
        and party_legs.party_id = history.party_id
    where abs(ln(party_legs.amount_cny) - history.usual_log)
        >= greatest(ln({{ outlier_factor }}), {{ outlier_z }} * 1.4826 * history.mad_log)
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
