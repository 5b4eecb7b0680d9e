-- AML-003 Pass-through account (indicators.md): within window_hours of a typology inflow, the party's
-- typology inflow is >= min_inflow, its typology outflow >= min_out_share of that inflow and its balance
-- after its last leg in the window <= max_end_share of the inflow. Windows open at each typology inflow
-- and look forward (range frames, linear in the legs; a bounded self-join on Spark: aml_range_window);
-- one row per (window that fires, typology leg in it): the evidence. The hit belongs to the period of the
-- inflow that opens the window.

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
        min_inflow.value as min_inflow,
        min_out_share.value as min_out_share,
        max_end_share.value as max_end_share,
        window_hours.value * 3600 as window_seconds
    from (select distinct ent_type, period from party_legs) as ent_types
    {%- for param in ['min_inflow', 'min_out_share', 'max_end_share', 'window_hours'] %}
    {{ join_threshold(param, 'ent_types.ent_type', period_end('ent_types.period'), indicator='AML-003') }}
    {%- endfor %}
),

framed as (
    select
        party_legs.*,
        params.window_seconds,
        params.min_inflow,
        params.min_out_share,
        params.max_end_share
    from party_legs
    inner join params
        on party_legs.ent_type = params.ent_type
        and party_legs.period = params.period
),

windows as (
    {{ aml_range_window(
        'framed', [],
        [('window_inflow', 'sum',
          "case when framed.is_typology_edge and framed.direction = 'in' then framed.amount_cny else 0 end"),
         ('window_outflow', 'sum',
          "case when framed.is_typology_edge and framed.direction = 'out' then framed.amount_cny else 0 end"),
         ('window_end_balance', 'last', 'framed.balance_after'),
         ('window_last_epoch', 'max', 'framed.booked_epoch')],
        partition_by=['enterprise_id', 'party_id'],
        order_by='booked_epoch',
        lower=none,
        upper='framed.window_seconds',
        joins='',
        tiebreak=['txn_id', 'direction']
    ) }}
),

firing as (
    select *
    from windows
    where is_typology_edge
        and direction = 'in'
        and window_inflow >= min_inflow
        and window_outflow >= min_out_share * window_inflow
        and window_end_balance <= max_end_share * window_inflow
),

final as (
    select
        firing.enterprise_id,
        firing.ent_type,
        firing.period,
        'AML-003' as indicator_id,
        'pass_through' as metric,
        firing.party_id,
        firing.txn_id as pattern_id,
        member.txn_id,
        member.booked_at,
        member.amount_cny
    from firing
    inner join party_legs as member
        on firing.enterprise_id = member.enterprise_id
        and firing.party_id = member.party_id
        and member.is_typology_edge
        and member.booked_epoch between firing.booked_epoch and firing.window_last_epoch
)

{{ rebuilt_partitions('final', 'int_aml_partitions_to_rebuild') }}
