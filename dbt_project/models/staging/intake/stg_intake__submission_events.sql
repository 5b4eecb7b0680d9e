with

events as (
    select * from {{ source('intake', 'submission_events') }}
),

renamed as (
    select
        event_id,
        submission_id,
        status,
        event_at,
        {{ local_date('event_at') }} as event_date_sh,
        reason
    from events
)

select * from renamed
