-- LIQ-002 Redemption pressure (WM, daily, from the liquidity filing): net_redemptions / aum. A day WARNs
-- when its share is above max_daily_share, or when the own-history screen fires: the day's share against
-- the enterprise's daily shares of its previous periods (up to max_history, at least min_history of them;
-- robust_screen with day, upward only). The days of the scored period are not part of its history, so a
-- run of heavy days cannot hide in its own baseline and every day of a period meets the same history.
-- Without enough history the z screen is skipped (the daily limit still applies) and the evidence says so.
-- threshold = the share above which the day WARNs (the lower of the limit and the z screen's bound).
-- Rolled up to the month (worst day, average); the worst-day evidence names the days each screen flagged.
{%- set indicator_id = 'LIQ-002' %}

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

liquidity as (
    select * from {{ ref('stg_filings__liquidity') }}
),

shares as (
    select
        liquidity.enterprise_id,
        enterprise_periods.ent_type,
        liquidity.period,
        '{{ indicator_id }}' as indicator_id,
        'net_redemption_share' as metric,
        liquidity.as_of_date,
        cast(null as {{ dbt.type_string() }}) as dimension,
        cast(null as {{ dbt.type_string() }}) as dimension_value,
        cast(liquidity.net_redemptions as {{ type_double() }}) / nullif(liquidity.aum, 0) as value,
        liquidity.net_redemptions as numerator,
        liquidity.aum as denominator
    from liquidity
    inner join enterprise_periods
        on liquidity.submission_id = enterprise_periods.submission_id
    where enterprise_periods.ent_type = 'WM'
),

screened as (
    select
        shares.*,
        max_share.value as max_share,
        max_share.severity as max_share_severity,
        coalesce({{ compare('shares.value', 'max_share') }}, false) as limit_fires,
        history_screen.screen_fires as z_fires,
        history_screen.screen_sufficient as z_sufficient,
        history_screen.screen_severity as z_severity,
        history_screen.screen_bound as z_bound,
        history_screen.screen_n as history_periods,
        history_screen.screen_n_values as history_days,
        {{ screen_evidence('history_screen', 'history', digits=4) }} as z_evidence
    from shares
    {{ join_threshold(
        'max_daily_share',
        alias='max_share',
        indicator=indicator_id,
        ent_type='shares.ent_type',
        on_date='shares.as_of_date'
    ) }}
    left join {{ robust_screen('shares', 'history', day='as_of_date') }} as history_screen
        on {{ screen_keys_match('shares', 'history_screen', day='as_of_date') }}
),

daily_scored as (
    {%- set row_status %}
        case
            when denominator is null or numerator is null then 'INSUFFICIENT_DATA'
            when denominator = 0 then 'NOT_APPLICABLE'
            when limit_fires then max_share_severity
            when z_fires then z_severity
            when max_share is null and not z_sufficient then 'INFO'
            else 'OK'
        end
    {%- endset %}
    {%- set row_evidence %}
        case
            when value is not null
                then case
                    when limit_fires and z_fires then 'daily limit and own-history z fired; '
                    when limit_fires then 'daily limit fired; '
                    when z_fires then 'own-history z fired; '
                    else ''
                end
                || coalesce(
                    z_evidence || ' (' || cast(history_days as {{ dbt.type_string() }}) || ' days)',
                    'no z screen: ' || cast(history_periods as {{ dbt.type_string() }})
                    || ' previous period(s) of history'
                )
        end
    {%- endset %}
    select
        {{ indicator_row(indicator_id_sql='indicator_id', metric_sql='metric', value='value',
                         numerator='numerator', denominator='denominator', status=row_status,
                         threshold='case when z_sufficient then least(max_share, z_bound) else max_share end',
                         evidence=row_evidence, as_of_date='as_of_date', dimension='dimension',
                         dimension_value='dimension_value') }}
    from screened
),

flagged_days as (
    select
        enterprise_id,
        period,
        {{ dbt.listagg(
            "case when limit_fires then cast(as_of_date as " ~ dbt.type_string() ~ ") end",
            "', '",
            "order by as_of_date"
        ) }} as limit_days,
        {{ dbt.listagg(
            "case when z_fires then cast(as_of_date as " ~ dbt.type_string() ~ ") end",
            "', '",
            "order by as_of_date"
        ) }} as z_days
    from screened
    group by enterprise_id, period
),

rolled_up as (
    select * from {{ daily_rollup('daily_scored', 'net_redemption_share', worst='max') }}
),

rolled_up_by_screen as (
    {%- set row_evidence %}
        rolled_up.evidence
        || case
            when rolled_up.metric = 'net_redemption_share_worst_day'
                then coalesce('; daily limit: ' || flagged_days.limit_days, '')
                || coalesce('; own-history z: ' || flagged_days.z_days, '')
            else ''
        end
    {%- endset %}
    select
        {{ indicator_row(indicator_id_sql='rolled_up.indicator_id', metric_sql='rolled_up.metric',
                         value='rolled_up.value', numerator='rolled_up.numerator',
                         denominator='rolled_up.denominator', status='rolled_up.status',
                         threshold='rolled_up.threshold', evidence=row_evidence,
                         as_of_date='rolled_up.as_of_date', dimension='rolled_up.dimension',
                         dimension_value='rolled_up.dimension_value',
                         enterprise_id='rolled_up.enterprise_id', period='rolled_up.period') }}
    from rolled_up
    left join flagged_days
        on rolled_up.enterprise_id = flagged_days.enterprise_id
        and rolled_up.period = flagged_days.period
),

unioned as (
    select * from daily_scored
    union all
    select * from rolled_up_by_screen
)

{{ indicator_rows('unioned') }}
