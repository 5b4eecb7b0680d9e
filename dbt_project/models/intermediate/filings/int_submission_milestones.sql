-- Per submission: when the intake received it (its RECEIVED event, never the filer's submitted_at; the
-- intake's submissions.received_at, which records the same moment, when no event is there) and
-- when it was first accepted (ACCEPTED or ACCEPTED_WITH_WARNINGS event), whatever its status now
-- (a SUPERSEDED version was accepted once). Submissions without an enterprise or a valid period
-- (unreadable manifests) are left out.

with

submissions as (
    select * from {{ ref('stg_intake__submissions') }}
),

events as (
    select * from {{ ref('stg_intake__submission_events') }}
),

milestones as (
    select
        events.submission_id,
        min(case when events.status = 'RECEIVED' then events.event_at end) as received_at,
        min(
            case when events.status in ('ACCEPTED', 'ACCEPTED_WITH_WARNINGS') then events.event_at end
        ) as accepted_at
    from events
    group by events.submission_id
),

final as (
    select
        submissions.submission_id,
        submissions.enterprise_id,
        submissions.ent_type,
        submissions.period,
        submissions.period_start,
        submissions.period_end,
        submissions.version,
        submissions.status,
        submissions.is_current,
        coalesce(milestones.received_at, submissions.received_at) as received_at,
        milestones.accepted_at
    from submissions
    left join milestones
        on submissions.submission_id = milestones.submission_id
    where submissions.enterprise_id is not null
        and submissions.period_start is not null
)

select * from final
