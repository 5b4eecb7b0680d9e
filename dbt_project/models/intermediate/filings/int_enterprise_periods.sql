-- Every enterprise x period with a current version: the base of every monthly indicator, so an
-- enterprise with nothing to count still gets its zero (or NOT_APPLICABLE) rows.

with

submissions as (
    select * from {{ ref('stg_intake__submissions') }}
),

current_versions as (
    select
        enterprise_id,
        period,
        ent_type,
        period_start,
        period_end,
        submission_id,
        version
    from submissions
    where is_current
)

select * from current_versions
