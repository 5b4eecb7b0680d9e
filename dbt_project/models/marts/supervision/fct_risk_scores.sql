-- Composite risk score per enterprise x period, 0-100 (100 = highest risk), indicators.md "Composite risk
-- score". Per family: family_score = min(1, BREACH alerts + 0.3 x WARN alerts) x 100 over the period's
-- alerts (fct_alerts, monthly grain); score = sum of weight x family_score / 100 with the weights of the
-- seed risk_weights for the enterprise type, keeping only the families that apply to the type (a family
-- applies when one of its indicators lists the type in the seed `indicators`) and renormalising their
-- weights to 100. One row per family (with the alert ids it rests on) and one row family 'ALL' with the
-- composite score.

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

alerts as (
    select * from {{ ref('fct_alerts') }}
),

weights as (
    select * from {{ ref('risk_weights') }}
),

indicators as (
    select * from {{ ref('indicators') }}
),

weight_types as (
    select distinct ent_type from weights
),

applicable_families as (
    select distinct indicators.family, types.ent_type
    from indicators
    inner join weight_types as types
        on indicators.ent_types = '*'
        or ' ' || indicators.ent_types || ' ' like '% ' || types.ent_type || ' %'
),

applied_weights as (
    select
        weights.ent_type,
        weights.family,
        weights.weight,
        100.0 * weights.weight / sum(weights.weight) over (partition by weights.ent_type) as applied_weight
    from weights
    inner join applicable_families
        on weights.ent_type = applicable_families.ent_type
        and weights.family = applicable_families.family
),

family_alerts as (
    select
        enterprise_id,
        period,
        family,
        sum(case when severity = 'BREACH' then 1 else 0 end) as breaches,
        sum(case when severity = 'WARN' then 1 else 0 end) as warnings,
        {{ dbt.listagg('alert_id', "' '", 'order by alert_id') }} as alert_ids
    from alerts
    group by 1, 2, 3
),

families as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.ent_type,
        applied_weights.family,
        applied_weights.weight,
        applied_weights.applied_weight,
        coalesce(family_alerts.breaches, 0) as breaches,
        coalesce(family_alerts.warnings, 0) as warnings,
        100.0 * least(1.0, coalesce(family_alerts.breaches, 0) + 0.3 * coalesce(family_alerts.warnings, 0)) as family_score,
        family_alerts.alert_ids
    from enterprise_periods
    inner join applied_weights
        on enterprise_periods.ent_type = applied_weights.ent_type
    left join family_alerts
        on enterprise_periods.enterprise_id = family_alerts.enterprise_id
        and enterprise_periods.period = family_alerts.period
        and applied_weights.family = family_alerts.family
),

family_rows as (
    select
        *,
        applied_weight * family_score / 100.0 as contribution
    from families
),

composite as (
    select
        enterprise_id,
        period,
        ent_type,
        'ALL' as family,
        sum(weight) as weight,
        sum(applied_weight) as applied_weight,
        sum(breaches) as breaches,
        sum(warnings) as warnings,
        cast(null as {{ type_double() }}) as family_score,
        {{ dbt.listagg('alert_ids', "' '", 'order by family') }} as alert_ids,
        sum(contribution) as contribution
    from family_rows
    group by 1, 2, 3
),

unioned as (
    select * from family_rows
    union all
    select * from composite
)

select
    cast(enterprise_id as {{ dbt.type_string() }}) as enterprise_id,
    cast(period as {{ dbt.type_string() }}) as period,
    cast(ent_type as {{ dbt.type_string() }}) as ent_type,
    cast(family as {{ dbt.type_string() }}) as family,
    cast(weight as {{ type_double() }}) as weight,
    cast(applied_weight as {{ type_double() }}) as applied_weight,
    cast(breaches as integer) as breaches,
    cast(warnings as integer) as warnings,
    cast(family_score as {{ type_double() }}) as family_score,
    cast(contribution as {{ type_double() }}) as score,
    cast(alert_ids as {{ dbt.type_string() }}) as alert_ids,
    {{ as_of_timestamp() }} as computed_at
from unioned
