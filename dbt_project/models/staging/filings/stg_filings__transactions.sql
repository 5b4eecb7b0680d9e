with

current_rows as (
    {{ current_version_rows('transactions') }}
),

final as (
    select
        *,
        {{ local_date('booked_at') }} as booked_date_sh
    from current_rows
)

select * from final
