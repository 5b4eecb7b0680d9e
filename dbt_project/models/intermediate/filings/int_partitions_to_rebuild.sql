-- The enterprise x period partitions the incremental models rebuild in this run (macros/incremental.sql):
-- a view of what changed since the last complete build, so it reads empty after every complete build.
-- A partition changed when its current version differs from the one the last complete build recorded
-- (dbt_state.partitions_built): a new period, a resubmission, a version accepted or dropped. The models
-- look across one enterprise's periods (an account's previous leg, a reversal of a leg of an earlier
-- period, filings.md), so for each enterprise with a changed partition every partition that can hold a
-- leg booked on or after the earliest day the change touches is rebuilt: the changed partitions' first
-- day, the first booking day of their customer legs in the new and the replaced version, and the booking
-- day of every leg those legs reverse (X-15 bounds booked_at by the period's last day, so a partition
-- ending before that day holds no such leg). Before the first complete build (and on Spark, where the
-- models are tables), every current partition.
-- depends_on: {{ ref('stg_filings__transactions') }}
-- depends_on: {{ source('raw', 'transactions') }}
{{ config(materialized='view') }}

with

current_versions as (
    select
        enterprise_id,
        period,
        submission_id,
        period_start,
        period_end
    from {{ ref('stg_intake__submissions') }}
    where is_current
),

{%- set built = built_partitions_relation() %}
{%- if built is none %}

final as (
    select
        enterprise_id,
        period
    from current_versions
)
{%- else %}

built as (
    select
        enterprise_id,
        period,
        submission_id,
        {{ period_start('period') }} as period_start,
        {{ period_end('period') }} as period_end
    from {{ built }}
),

changed as (
    select
        coalesce(current_versions.enterprise_id, built.enterprise_id) as enterprise_id,
        coalesce(current_versions.period_start, built.period_start) as period_start,
        current_versions.submission_id as current_submission_id,
        built.submission_id as built_submission_id
    from current_versions
    full outer join built
        on current_versions.enterprise_id = built.enterprise_id
        and current_versions.period = built.period
    where current_versions.submission_id is distinct from built.submission_id
),

changed_versions as (
    select current_submission_id as submission_id from changed
    where current_submission_id is not null
    union
    select built_submission_id as submission_id from changed
    where built_submission_id is not null
),

changed_legs as (
    select
        filing_rows.enterprise_id,
        filing_rows.reverses_txn_id,
        {{ local_date('filing_rows.booked_at') }} as booked_date_sh
    from {{ source('raw', 'transactions') }} as filing_rows
    inner join changed_versions
        on filing_rows.submission_id = changed_versions.submission_id
    where filing_rows.leg = 'customer'
),

reversals as (
    select distinct
        enterprise_id,
        reverses_txn_id
    from changed_legs
    where reverses_txn_id is not null
),

reversed_legs as (
    select
        current_legs.enterprise_id,
        current_legs.booked_date_sh
    from {{ ref('stg_filings__transactions') }} as current_legs
    inner join reversals
        on current_legs.enterprise_id = reversals.enterprise_id
        and current_legs.txn_id = reversals.reverses_txn_id
),

first_touched_day as (
    select
        enterprise_id,
        min(first_day) as first_day
    from (
        select
            enterprise_id,
            period_start as first_day
        from changed
        union all
        select
            enterprise_id,
            booked_date_sh
        from changed_legs
        union all
        select
            enterprise_id,
            booked_date_sh
        from reversed_legs
    ) as touched
    group by enterprise_id
),

partitions as (
    select
        enterprise_id,
        period,
        period_end
    from current_versions
    union
    select
        enterprise_id,
        period,
        period_end
    from built
),

final as (
    select distinct
        partitions.enterprise_id,
        partitions.period
    from partitions
    inner join first_touched_day
        on partitions.enterprise_id = first_touched_day.enterprise_id
    where partitions.period_end >= first_touched_day.first_day
)
{%- endif %}

select * from final
