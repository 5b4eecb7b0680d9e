{#- The one implementation of the peer and history screens of indicators.md ("Conventions"):

      robust z   = (x - median) / (1.4826 * MAD), MAD floored at mad_floor_share * max(|median|, min_size)
      rel change = |x - median| / max(|median|, min_size)
      fires      = enough comparators (>= min_peers | min_history) and z passes peer_robust_z |
                   history_robust_z and rel change passes min_rel_change (all from the thresholds seed,
                   per indicator and enterprise type, valid on the period's last day)

    over='peers':   the other enterprises of the same type in the same period (the scored one excluded);
    over='history': the enterprise's own previous periods, the latest max_history of them.
    two_sided=true screens |z| (a move either way), false only upward moves.
    day names an optional date column of `values` for a daily indicator (over='history' only): `values`
    then has one row per key and day, and each day is scored against the pooled daily values of the
    enterprise's previous periods (the latest max_history periods, valid on the period's last day; the
    days of the scored period itself are not comparators, so every day of a period meets the same
    history). screen_n counts those periods (min_history applies to them), screen_n_values the days;
    the other parameters are read on the scored day, and the output key has the day column too.
    noise_sd names an optional column of `values`: the sampling standard deviation of each value (e.g.
    of a share estimated from few counterparties). The screen's sigma is then at least the standard
    deviation of the difference between the scored value and a typical comparator,
    sqrt(noise_sd^2 + median comparator noise_sd^2), so a move that sampling alone explains never fires.

    `values` names a relation or CTE with enterprise_id, ent_type, period, indicator_id, metric,
    dimension, dimension_value and value (null, NaN and infinite values are scored as nothing and never
    compared with; a z or relative change that is not a finite number is null, shown as 'n/a').
    The macro is a parenthesised subquery: `left join {{ robust_screen('x', 'peers') }} as screen on ...`
    with one row per row of `values` and the columns
      enterprise_id, period, indicator_id, metric, dimension, dimension_value (the key),
      screen_n (comparators: peers or previous periods), screen_n_values (comparator values),
      screen_median, screen_mad, screen_z, screen_rel_change, screen_sufficient, screen_fires,
      screen_severity (the z parameter's severity), screen_bound (the value beyond which it would fire,
      on the side of the median the value is on).
    Join it back with screen_keys_match() (with day=... for a daily screen). -#}
{% macro robust_screen(values, over, two_sided=false, noise_sd=none, day=none) -%}
{%- if over not in ['peers', 'history'] -%}
    {{ exceptions.raise_compiler_error("robust_screen: over must be 'peers' or 'history', not " ~ over) }}
{%- endif -%}
{%- if day and over != 'history' -%}
    {{ exceptions.raise_compiler_error("robust_screen: day is only for over='history'") }}
{%- endif -%}
{#- base: the key the comparators and their centre belong to; keys: the key of a scored row. -#}
{%- set base = screen_keys() -%}
{%- set keys = base + ([day] if day else []) -%}
{#- Daily screens pool comparators once per period (screen_bases), not once per day. -#}
{%- set bases = 'screen_bases' if day else 'screen_scored' -%}
{%- set min_n_param = 'min_peers' if over == 'peers' else 'min_history' -%}
{%- set z_param = 'peer_robust_z' if over == 'peers' else 'history_robust_z' -%}
{#- 1.4826 makes the MAD a consistent estimator of the standard deviation for normal data: it is part
    of the definition of the robust z, not a threshold. -#}
{%- set mad_to_sigma = 1.4826 -%}
{%- set on_params = {'ent_type': 'screen_scored.ent_type',
                     'on_date': 'screen_scored.' ~ (day or 'period_end'),
                     'indicator_column': 'screen_scored.indicator_id'} -%}
{%- set window_params = {'ent_type': bases ~ '.ent_type', 'on_date': bases ~ '.period_end',
                         'indicator_column': bases ~ '.indicator_id'} -%}
(
    with

    screen_scored as (
        select
            {% for k in keys %}screen_values.{{ k }},
            {% endfor %}screen_values.ent_type,
            {{ finite_or_null('screen_values.value') }} as value,
            {{ finite_or_null('screen_values.' ~ noise_sd) if noise_sd else 'cast(null as ' ~ type_double() ~ ')' }} as noise_sd,
            {{ period_end('screen_values.period') }} as period_end
        from {{ values }} as screen_values
    ),
    {%- if day %}

    screen_bases as (
        select distinct
            {% for k in base %}{{ k }},
            {% endfor %}ent_type,
            period_end
        from screen_scored
    ),
    {%- endif %}

    screen_comparators as (
        select
            {% for k in base %}{{ bases }}.{{ k }},
            {% endfor %}other_values.period as other_period,
            other_values.value as other_value,
            {{ finite_or_null('other_values.' ~ noise_sd) if noise_sd else 'cast(null as ' ~ type_double() ~ ')' }} as other_noise,
            {{ 'dense_rank' if day else 'row_number' }}() over (
                partition by {% for k in base %}{{ bases }}.{{ k }}{{ ', ' if not loop.last }}{% endfor %}
                order by other_values.period desc
            ) as recency
        from {{ bases }}
        inner join {{ values }} as other_values
            on {{ bases }}.indicator_id = other_values.indicator_id
            and {{ bases }}.metric = other_values.metric
            and {{ bases }}.dimension is not distinct from other_values.dimension
            and {{ bases }}.dimension_value is not distinct from other_values.dimension_value
            {%- if over == 'peers' %}
            and {{ bases }}.ent_type = other_values.ent_type
            and {{ bases }}.period = other_values.period
            and {{ bases }}.enterprise_id <> other_values.enterprise_id
            {%- else %}
            and {{ bases }}.enterprise_id = other_values.enterprise_id
            and other_values.period < {{ bases }}.period
            {%- endif %}
        where {{ finite_or_null('other_values.value') }} is not null
    ),

    screen_window as (
        select screen_comparators.*
        from screen_comparators
        {%- if over == 'history' %}
        inner join {{ bases }}
            on {{ screen_keys_match(bases, 'screen_comparators') }}
        {{ join_threshold('max_history', alias='max_history', **window_params) }}
        where screen_comparators.recency <= max_history.value
        {%- endif %}
    ),

    screen_centre as (
        select
            {% for k in base %}{{ k }},
            {% endfor %}{{ 'count(distinct other_period)' if day else 'count(*)' }} as screen_n,
            count(*) as screen_n_values,
            percentile_cont(0.5) within group (order by other_value) as screen_median,
            percentile_cont(0.5) within group (order by other_noise) as screen_noise_median
        from screen_window
        group by {% for k in base %}{{ k }}{{ ', ' if not loop.last }}{% endfor %}
    ),

    screen_spread as (
        select
            {% for k in base %}screen_window.{{ k }},
            {% endfor %}percentile_cont(0.5) within group (
                order by abs(screen_window.other_value - screen_centre.screen_median)
            ) as screen_mad
        from screen_window
        inner join screen_centre
            on {{ screen_keys_match('screen_centre', 'screen_window') }}
        group by {% for k in base %}screen_window.{{ k }}{{ ', ' if not loop.last }}{% endfor %}
    ),

    screen_measures as (
        select
            {% for k in keys %}screen_scored.{{ k }},
            {% endfor %}screen_scored.value,
            coalesce(screen_centre.screen_n, 0) as screen_n,
            coalesce(screen_centre.screen_n_values, 0) as screen_n_values,
            screen_centre.screen_median,
            screen_spread.screen_mad,
            greatest(abs(screen_centre.screen_median), screen_min_size.value) as screen_scale,
            greatest(
                {{ mad_to_sigma }} * greatest(
                    screen_spread.screen_mad,
                    screen_mad_floor.value * greatest(abs(screen_centre.screen_median), screen_min_size.value)
                ),
                sqrt(
                    coalesce(screen_scored.noise_sd, 0) * coalesce(screen_scored.noise_sd, 0)
                    + coalesce(screen_centre.screen_noise_median, 0) * coalesce(screen_centre.screen_noise_median, 0)
                )
            ) as screen_sigma,
            {{ compare('coalesce(screen_centre.screen_n, 0)', 'screen_min_n') }} as screen_sufficient,
            screen_z_threshold.value as screen_z_threshold,
            screen_z_threshold.comparison as screen_z_comparison,
            screen_z_threshold.severity as screen_severity,
            screen_min_rel.value as screen_min_rel_change,
            screen_min_rel.comparison as screen_rel_comparison
        from screen_scored
        left join screen_centre
            on {{ screen_keys_match('screen_scored', 'screen_centre') }}
        left join screen_spread
            on {{ screen_keys_match('screen_scored', 'screen_spread') }}
        {{ join_threshold(min_n_param, alias='screen_min_n', **on_params) }}
        {{ join_threshold(z_param, alias='screen_z_threshold', **on_params) }}
        {{ join_threshold('min_rel_change', alias='screen_min_rel', **on_params) }}
        {{ join_threshold('mad_floor_share', alias='screen_mad_floor', **on_params) }}
        {{ join_threshold('min_size', alias='screen_min_size', **on_params) }}
    ),

    screen_scores as (
        select
            screen_measures.*,
            {{ finite_or_null('(value - screen_median) / nullif(screen_sigma, 0)') }} as screen_z,
            {{ finite_or_null('abs(value - screen_median) / nullif(screen_scale, 0)') }} as screen_rel_change,
            greatest(screen_z_threshold * screen_sigma, screen_min_rel_change * screen_scale) as screen_distance
        from screen_measures
    )

    select
        {% for k in keys %}{{ k }},
        {% endfor %}screen_n,
        screen_n_values,
        screen_median,
        screen_mad,
        screen_z,
        screen_rel_change,
        coalesce(screen_sufficient, false) as screen_sufficient,
        coalesce(
            screen_sufficient
            and {{ compare_with(('abs(screen_z)' if two_sided else 'screen_z'), 'screen_z_comparison', 'screen_z_threshold') }}
            and {{ compare_with('screen_rel_change', 'screen_rel_comparison', 'screen_min_rel_change') }},
            false
        ) as screen_fires,
        screen_severity,
        case
            when not screen_sufficient then null
            {%- if two_sided %}
            when value < screen_median then screen_median - screen_distance
            {%- endif %}
            else screen_median + screen_distance
        end as screen_bound
    from screen_scores
)
{%- endmacro %}

{% macro screen_keys() -%}
    {{ return(['enterprise_id', 'period', 'indicator_id', 'metric', 'dimension', 'dimension_value']) }}
{%- endmacro %}

{#- Join condition on the screen key (dimension and dimension_value may be null), with the day column
    of a daily screen when day is given. -#}
{% macro screen_keys_match(left, right, day=none) -%}
    {%- for k in screen_keys() + ([day] if day else []) -%}
        {{ left }}.{{ k }} {{ 'is not distinct from' if k.startswith('dimension') else '=' }} {{ right }}.{{ k }}
        {{- '\n        and ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- Status of a screened value: INSUFFICIENT_PEERS / INSUFFICIENT_HISTORY without enough comparators,
    the screen's severity when it fires, otherwise OK. -#}
{% macro screen_status(screen, over) -%}
    case
        when not {{ screen }}.screen_sufficient
            then '{{ "INSUFFICIENT_PEERS" if over == "peers" else "INSUFFICIENT_HISTORY" }}'
        when {{ screen }}.screen_fires then {{ screen }}.screen_severity
        else 'OK'
    end
{%- endmacro %}

{#- Evidence of a screened value: what it was compared with. Null without enough comparators. -#}
{% macro screen_evidence(screen, over, digits=2) -%}
    case
        when {{ screen }}.screen_sufficient
            then '{{ "median of " if over == "history" else "peer median of " }}'
            || cast({{ screen }}.screen_n as {{ dbt.type_string() }})
            || '{{ " previous period(s) " if over == "history" else " peer(s) " }}'
            || {{ num_text(screen ~ '.screen_median', digits) }}
            || ', robust z ' || coalesce({{ num_text(screen ~ '.screen_z') }}, 'n/a')
    end
{%- endmacro %}
