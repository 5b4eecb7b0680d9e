-- AML-002..AML-007 (indicators.md, AML): per party, rolled up to enterprise x period.
--   party rows (dimension 'party', dimension_value = party_id): one per party and metric whose pattern
--     fired in the period; value = numerator = its patterns (denominator 1), status WARN; evidence = the
--     transaction ids (every one is a row of fct_aml_evidence);
--   roll-up rows (no dimension), every enterprise-period the indicator applies to: parties_flagged
--     (INFO) and flagged_per_10k_customers = flagged parties / active customers x 10,000 (INFO;
--     NOT_APPLICABLE without active customers). AML-007 applies to CF only (seed `indicators`).

with

evidence as (
    select * from {{ ref('fct_aml_evidence') }}
    where indicator_id <> 'AML-001'
),

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

indicators as (
    select * from {{ ref('indicators') }}
    where indicator_id in ('AML-002', 'AML-003', 'AML-004', 'AML-005', 'AML-006', 'AML-007')
),

active_customers as (
    select enterprise_id, period, count(*) as customers
    from {{ ref('int_customers_active') }}
    group by enterprise_id, period
),

party_hits as (
    select
        enterprise_id,
        period,
        indicator_id,
        metric,
        'party' as dimension,
        party_id as dimension_value,
        count(distinct pattern_id) as patterns,
        {{ string_agg_ordered('txn_id', "' '", 'booked_at, txn_id') }} as txn_ids
    from evidence
    group by enterprise_id, period, indicator_id, metric, party_id
),

applicable as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        indicators.indicator_id,
        coalesce(active_customers.customers, 0) as customers
    from enterprise_periods
    inner join indicators
        on indicators.ent_types = '*'
        or {{ aml_word_in('indicators.ent_types', 'enterprise_periods.ent_type') }}
    left join active_customers
        on enterprise_periods.enterprise_id = active_customers.enterprise_id
        and enterprise_periods.period = active_customers.period
),

flagged as (
    select
        applicable.enterprise_id,
        applicable.period,
        applicable.indicator_id,
        applicable.customers,
        count(distinct party_hits.dimension_value) as parties
    from applicable
    left join party_hits
        on applicable.enterprise_id = party_hits.enterprise_id
        and applicable.period = party_hits.period
        and applicable.indicator_id = party_hits.indicator_id
    group by applicable.enterprise_id, applicable.period, applicable.indicator_id, applicable.customers
),

scored as (
    select
        {{ indicator_row(indicator_id_sql='indicator_id', metric_sql='metric', value='patterns',
                         numerator='patterns', denominator='1', status="'WARN'", evidence='txn_ids',
                         dimension='dimension', dimension_value='dimension_value') }}
    from party_hits

    union all

    select
        enterprise_id,
        period,
        indicator_id,
        'parties_flagged',
        cast(null as date),
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        parties as value,
        parties as numerator,
        1 as denominator,
        cast(null as {{ type_double() }}),
        'INFO',
        cast(null as {{ dbt.type_string() }})
    from flagged

    union all

    select
        enterprise_id,
        period,
        indicator_id,
        'flagged_per_10k_customers',
        cast(null as date),
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        case when customers > 0 then parties * 10000.0 / customers end,
        parties,
        customers,
        cast(null as {{ type_double() }}),
        case when customers > 0 then 'INFO' else 'NOT_APPLICABLE' end,
        cast(null as {{ dbt.type_string() }})
    from flagged
)

{{ indicator_rows('scored') }}
