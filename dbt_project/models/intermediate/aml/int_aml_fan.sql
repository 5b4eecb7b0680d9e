-- AML-004 Fan-in / fan-out (indicators.md): within window_days a party receives typology inflows from
-- >= min_counterparties distinct senders (by id_hash) and pays out to 1..max_forward_counterparties
-- receivers at least min_forward_share of what it received (metric fan_in), or the mirror image: pays
-- >= min_counterparties receivers and was funded by 1..max_forward_counterparties senders with at least
-- min_forward_share of what it paid out (fan_out). The amount gathered (fan_in) or dispersed (fan_out)
-- must reach min_amount: below it, a consumer paying a dozen shops after one transfer is everyday
-- spending. Windows close at each typology leg and look back (range frames; a bounded self-join on Spark:
-- aml_range_window); one row per (window that fires, typology leg in it): the evidence.

-- Incremental by enterprise x period: the partitions of int_aml_partitions_to_rebuild.
-- depends_on: {{ ref('int_aml_partitions_to_rebuild') }}
{{ config(
    materialized=partition_materialization(),
    pre_hook="{{ delete_rebuilt_partitions('int_aml_partitions_to_rebuild') }}"
) }}

with

party_legs as (
    select * from (
        {{ aml_window_legs() }}
    ) as window_legs
    where is_typology_edge
),

params as (
    select
        ent_types.ent_type,
        ent_types.period,
        min_counterparties.value as min_counterparties,
        max_forward_counterparties.value as max_forward_counterparties,
        min_forward_share.value as min_forward_share,
        min_amount.value as min_amount,
        window_days.value * 86400 as window_seconds
    from (select distinct ent_type, period from party_legs) as ent_types
    {%- for param in ['min_counterparties', 'max_forward_counterparties', 'min_forward_share', 'min_amount',
                      'window_days'] %}
    {{ join_threshold(param, 'ent_types.ent_type', period_end('ent_types.period'), indicator='AML-004') }}
    {%- endfor %}
),

windows as (
    {{ aml_range_window(
        'party_legs',
        ['params.min_counterparties', 'params.max_forward_counterparties', 'params.min_forward_share',
         'params.min_amount', 'params.window_seconds'],
        [('senders', 'count_distinct', "case when party_legs.direction = 'in' then party_legs.counterparty_id_hash end"),
         ('receivers', 'count_distinct',
          "case when party_legs.direction = 'out' then party_legs.counterparty_id_hash end"),
         ('received', 'sum', "case when party_legs.direction = 'in' then party_legs.amount_cny else 0 end"),
         ('paid_out', 'sum', "case when party_legs.direction = 'out' then party_legs.amount_cny else 0 end"),
         ('window_first_epoch', 'min', 'party_legs.booked_epoch')],
        partition_by=['enterprise_id', 'party_id'],
        order_by='booked_epoch',
        lower='params.window_seconds',
        upper=none,
        joins='inner join params on party_legs.ent_type = params.ent_type and party_legs.period = params.period'
    ) }}
),

firing as (
    select
        *,
        case
            when senders >= min_counterparties
                and receivers between 1 and max_forward_counterparties
                and received >= min_amount
                and paid_out >= min_forward_share * received then 'fan_in'
            when receivers >= min_counterparties
                and senders between 1 and max_forward_counterparties
                and paid_out >= min_amount
                and received >= min_forward_share * paid_out then 'fan_out'
        end as metric
    from windows
),

final as (
    select
        firing.enterprise_id,
        firing.ent_type,
        firing.period,
        'AML-004' as indicator_id,
        firing.metric,
        firing.party_id,
        firing.txn_id as pattern_id,
        member.txn_id,
        member.booked_at,
        member.amount_cny
    from firing
    inner join party_legs as member
        on firing.enterprise_id = member.enterprise_id
        and firing.party_id = member.party_id
        and member.booked_epoch between firing.window_first_epoch and firing.booked_epoch
    where firing.metric is not null
)

{{ rebuilt_partitions('final', 'int_aml_partitions_to_rebuild') }}
