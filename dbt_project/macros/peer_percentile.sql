{#- The peer percentile of indicators.md ("Conventions"): the continuous (interpolated) percentile of the
    values of the other enterprises of the same type in the same period, the scored one excluded. The
    percentile (e.g. 0.9) is the seed parameter `param` of the row's indicator, valid on the period's
    last day. Use it beside robust_screen(..., 'peers'): a percentile screen fires only when the robust
    z against peers fires too.

    `values` has the columns of robust_screen's input (enterprise_id, ent_type, period, indicator_id,
    metric, dimension, dimension_value, value). A parenthesised subquery with one row per row of `values`
    that has at least one peer: the key, pctl_n (peers) and pctl_value. Join with screen_keys_match(). -#}
{% macro peer_percentile(values, param) -%}
{%- set keys = screen_keys() -%}
(
    with

    pctl_scored as (
        select
            {% for k in keys %}pctl_values.{{ k }},
            {% endfor %}pctl_values.ent_type,
            {{ period_end('pctl_values.period') }} as period_end
        from {{ values }} as pctl_values
    ),

    pctl_peers as (
        select
            {% for k in keys %}pctl_scored.{{ k }},
            {% endfor %}pctl_fraction.value as fraction,
            peer_values.value as peer_value,
            row_number() over (
                partition by {% for k in keys %}pctl_scored.{{ k }}{{ ', ' if not loop.last }}{% endfor %}
                order by peer_values.value
            ) - 1 as peer_rank,
            count(*) over (
                partition by {% for k in keys %}pctl_scored.{{ k }}{{ ', ' if not loop.last }}{% endfor %}
            ) as peer_n
        from pctl_scored
        inner join {{ values }} as peer_values
            on pctl_scored.indicator_id = peer_values.indicator_id
            and pctl_scored.metric = peer_values.metric
            and pctl_scored.dimension is not distinct from peer_values.dimension
            and pctl_scored.dimension_value is not distinct from peer_values.dimension_value
            and pctl_scored.ent_type = peer_values.ent_type
            and pctl_scored.period = peer_values.period
            and pctl_scored.enterprise_id <> peer_values.enterprise_id
        {{ join_threshold(param, alias='pctl_fraction', ent_type='pctl_scored.ent_type',
                          on_date='pctl_scored.period_end', indicator_column='pctl_scored.indicator_id') }}
        where {{ finite_or_null('peer_values.value') }} is not null
    ),

    pctl_positions as (
        select
            *,
            fraction * (peer_n - 1) as position
        from pctl_peers
    )

    select
        {% for k in keys %}{{ k }},
        {% endfor %}max(peer_n) as pctl_n,
        max(case when peer_rank = floor(position) then peer_value end)
        + (max(position) - floor(max(position)))
        * (max(case when peer_rank = ceil(position) then peer_value end)
           - max(case when peer_rank = floor(position) then peer_value end)) as pctl_value
    from pctl_positions
    group by {% for k in keys %}{{ k }}{{ ', ' if not loop.last }}{% endfor %}
)
{%- endmacro %}

{#- The percentile screen of indicators.md: `value` above the peer percentile (`pctl`, the join of
    peer_percentile) fires only when the robust z against peers (`screen`, robust_screen(..., 'peers'))
    fires too. -#}
{% macro percentile_screen_fires(value, screen, pctl) -%}
    ({{ screen }}.screen_fires and {{ value }} > {{ pctl }}.pctl_value)
{%- endmacro %}

{#- The value beyond which the percentile screen fires: above both the percentile and the z bound. -#}
{% macro percentile_screen_bound(screen, pctl) -%}
    greatest({{ pctl }}.pctl_value, {{ screen }}.screen_bound)
{%- endmacro %}
