-- Enterprises with their profile history (SCD type 2): one row per run of consecutive periods whose
-- current enterprise_profile is identical (uscc, name, ent_type, licence_no, province_code,
-- custodian_bank_code, paid_in_capital). valid_from = the first day of the run's first period;
-- valid_to (exclusive) = the first day of the next version's first period, 9999-12-31 for the latest;
-- is_current marks the latest version.
{%- set attributes = ['uscc', 'name', 'ent_type', 'licence_no', 'province_code', 'custodian_bank_code', 'paid_in_capital'] %}
{%- set parts = [] %}
{%- for a in attributes %}
    {%- do parts.append("coalesce(cast(profiles." ~ a ~ " as " ~ dbt.type_string() ~ "), '')") %}
    {%- if not loop.last %}{% do parts.append("'|'") %}{% endif %}
{%- endfor %}

with

profiles as (
    select * from {{ ref('stg_filings__enterprise_profile') }}
),

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

profile_periods as (
    select
        profiles.enterprise_id,
        profiles.period,
        enterprise_periods.period_start,
        {% for a in attributes %}profiles.{{ a }},
        {% endfor %}{{ dbt.hash(dbt.concat(parts)) }} as profile_hash
    from profiles
    inner join enterprise_periods
        on profiles.submission_id = enterprise_periods.submission_id
),

changes as (
    select
        *,
        case
            when (lag(profile_hash) over (partition by enterprise_id order by period) is distinct from profile_hash)
                then 1 else 0
        end as starts_version
    from profile_periods
),

numbered as (
    select
        *,
        sum(starts_version) over (
            partition by enterprise_id order by period rows between unbounded preceding and current row
        ) as version
    from changes
),

versions as (
    select
        enterprise_id,
        version,
        {% for a in attributes %}max({{ a }}) as {{ a }},
        {% endfor %}min(period_start) as valid_from,
        min(period) as first_period,
        max(period) as last_period,
        count(*) as periods
    from numbered
    group by 1, 2
),

final as (
    select
        *,
        coalesce(
            lead(valid_from) over (partition by enterprise_id order by version),
            cast('9999-12-31' as date)
        ) as valid_to,
        lead(valid_from) over (partition by enterprise_id order by version) is null as is_current
    from versions
)

select
    cast(enterprise_id as {{ dbt.type_string() }}) as enterprise_id,
    cast(version as integer) as version,
    {% for a in attributes %}{{ a }},
    {% endfor %}cast(valid_from as date) as valid_from,
    cast(valid_to as date) as valid_to,
    is_current,
    cast(first_period as {{ dbt.type_string() }}) as first_period,
    cast(last_period as {{ dbt.type_string() }}) as last_period,
    cast(periods as integer) as periods
from final
