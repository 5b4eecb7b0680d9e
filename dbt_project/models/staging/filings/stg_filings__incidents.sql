with

current_rows as (
    {{ current_version_rows('incidents') }}
),

final as (
    select
        *,
        {{ local_date('started_at') }} as started_date_sh,
        {{ local_date('ended_at') }} as ended_date_sh,
        {{ local_date('detected_at') }} as detected_date_sh,
        {{ local_date('reported_at') }} as reported_date_sh
    from current_rows
)

select * from final
