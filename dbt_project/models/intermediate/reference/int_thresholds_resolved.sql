-- The thresholds seed resolved to one set of rows per (indicator, parameter, enterprise type): the seed
-- may give a parameter for all indicators (indicator_id '*') and/or all types (ent_type '*'); the most
-- specific level present wins for the whole parameter (indicator and type > indicator > type > '*').
-- Models look rows up with join_threshold(), on the day they are valid (valid_to exclusive).

with

thresholds as (
    select * from {{ ref('thresholds') }}
),

indicators as (
    select indicator_id from {{ ref('indicators') }}
),

ent_types as (
    select distinct ent_type from {{ ref('filing_requirements') }}
),

candidates as (
    select
        indicators.indicator_id,
        thresholds.param,
        ent_types.ent_type,
        thresholds.valid_from,
        thresholds.valid_to,
        thresholds.value,
        thresholds.unit,
        thresholds.comparison,
        thresholds.severity,
        thresholds.source,
        case when thresholds.indicator_id = '*' then 2 else 0 end
        + case when thresholds.ent_type = '*' then 1 else 0 end as generality
    from thresholds
    inner join indicators
        on thresholds.indicator_id in (indicators.indicator_id, '*')
    inner join ent_types
        on thresholds.ent_type in (ent_types.ent_type, '*')
),

ranked as (
    select
        *,
        min(generality) over (partition by indicator_id, param, ent_type) as most_specific
    from candidates
),

final as (
    select
        indicator_id,
        param,
        ent_type,
        valid_from,
        valid_to,
        value,
        unit,
        comparison,
        severity,
        source
    from ranked
    where generality = most_specific
)

select * from final
