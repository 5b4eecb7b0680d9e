-- The latest result of each rule for each submission (a SKIPPED rule re-evaluated later, or a later
-- attempt, replaces the earlier row): PASS, FAIL or SKIPPED with the true finding count.

with

results as (
    select * from {{ source('quality', 'rule_results') }}
),

latest as (
    select
        submission_id,
        rule_id,
        left(rule_id, 1) as stage,
        attempt,
        status,
        finding_count,
        evaluated_at
    from results
    qualify row_number() over (
        partition by submission_id, rule_id
        order by attempt desc, evaluated_at desc, status asc
    ) = 1
)

select * from latest
