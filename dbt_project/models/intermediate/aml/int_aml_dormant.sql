-- AML-006 Dormant reactivation (indicators.md): an account idle >= min_idle_days (since its previous `ok`
-- leg in the warehouse or its last_activity_date) then moves >= min_amount in and >= min_amount out in
-- typology legs within window_days of the leg that wakes it. One row per (reactivation that fires,
-- typology leg of the account in the window): the evidence; the hit is the account owner's in the
-- period of the waking leg. The window is a range frame (a bounded self-join on Spark: aml_range_window).

-- Incremental by enterprise x period: the partitions of int_aml_partitions_to_rebuild.
-- depends_on: {{ ref('int_aml_partitions_to_rebuild') }}
{{ config(
    materialized=partition_materialization(),
    pre_hook="{{ delete_rebuilt_partitions('int_aml_partitions_to_rebuild') }}"
) }}

with

party_legs as (
    {{ aml_window_legs() }}
),

params as (
    select
        ent_types.ent_type,
        ent_types.period,
        min_idle_days.value as min_idle_days,
        min_amount.value as min_amount,
        window_days.value * 86400 as window_seconds
    from (select distinct ent_type, period from party_legs) as ent_types
    {%- for param in ['min_idle_days', 'min_amount', 'window_days'] %}
    {{ join_threshold(param, 'ent_types.ent_type', period_end('ent_types.period'), indicator='AML-006') }}
    {%- endfor %}
),

windows as (
    {{ aml_range_window(
        'party_legs',
        ['params.min_idle_days', 'params.min_amount'],
        [('moved_in', 'sum',
          "case when party_legs.is_typology_edge and party_legs.direction = 'in' then party_legs.amount_cny else 0 end"),
         ('moved_out', 'sum',
          "case when party_legs.is_typology_edge and party_legs.direction = 'out' then party_legs.amount_cny else 0 end"),
         ('window_last_epoch', 'max', 'party_legs.booked_epoch')],
        partition_by=['enterprise_id', 'account_id'],
        order_by='booked_epoch',
        lower=none,
        upper='params.window_seconds',
        joins='inner join params on party_legs.ent_type = params.ent_type and party_legs.period = params.period'
    ) }}
),

firing as (
    select *
    from windows
    where previous_activity_date is not null
        and {{ dbt.datediff(
                'previous_activity_date',
                'booked_date_sh',
                'day'
            ) }} >= min_idle_days
        and moved_in >= min_amount
        and moved_out >= min_amount
),

final as (
    select
        firing.enterprise_id,
        firing.ent_type,
        firing.period,
        'AML-006' as indicator_id,
        'dormant_reactivation' as metric,
        firing.party_id,
        firing.account_id || '@' || firing.txn_id as pattern_id,
        member.txn_id,
        member.booked_at,
        member.amount_cny
    from firing
    inner join party_legs as member
        on firing.enterprise_id = member.enterprise_id
        and firing.account_id = member.account_id
        and member.is_typology_edge
        and member.booked_epoch between firing.booked_epoch and firing.window_last_epoch
)

{{ rebuilt_partitions('final', 'int_aml_partitions_to_rebuild') }}
