with

-- Only submissions of a filing period: a package refused before its manifest gave one (manifest not
-- readable, or quarantined by the intake for an identity mismatch) stays in intake.submissions and its
-- edit report, but belongs to no enterprise x period, so no mart ever sees it with a NULL key.
submissions as (
    select * from {{ source('intake', 'submissions') }}
    where {{ period_start('period') }} is not null
),

renamed as (
    select
        submission_id,
        enterprise_id,
        coalesce(ent_type, {{ ent_type_of('enterprise_id') }}) as ent_type,
        period,
        {{ period_start('period') }} as period_start,
        {{ period_end('period') }} as period_end,
        version,
        supersedes,
        status,
        status_reason,
        status_at,
        submitted_at,
        received_at,
        status in ('ACCEPTED', 'ACCEPTED_WITH_WARNINGS') as is_accepted
    from submissions
),

ranked as (
    select
        *,
        row_number() over (
            partition by enterprise_id, period, is_accepted
            order by version desc
        ) as accepted_rank
    from renamed
),

final as (
    select
        submission_id,
        enterprise_id,
        ent_type,
        period,
        period_start,
        period_end,
        version,
        supersedes,
        status,
        status_reason,
        status_at,
        submitted_at,
        received_at,
        is_accepted,
        is_accepted and accepted_rank = 1 as is_current
    from ranked
)

select * from final
