with

current_rows as (
    {{ current_version_rows('complaints') }}
),

final as (
    select
        *,
        {{ local_date('received_at') }} as received_date_sh,
        {{ local_date('closed_at') }} as closed_date_sh
    from current_rows
)

select * from final
