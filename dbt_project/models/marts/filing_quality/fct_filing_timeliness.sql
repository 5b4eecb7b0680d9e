-- Filing timeliness per enterprise x period, expected vs received. An enterprise is expected to file every
-- period from its first filed period (any submission, whatever its status) up to the last period that has
-- ended by the as_of. Due and close times come from the filing_calendar seed (the row for the enterprise
-- type, else '*', valid at period end): due = period end + due_day days at due_time (local time in the
-- seed's timezone), close = due + close_days days.
--   on_time  the first version that was eventually accepted was received (RECEIVED event) by the due time
--   late     it was received after the due time (days_late = calendar days rounded up)
--   missing  no accepted version yet and the period has closed
--   pending  no accepted version yet, before close (days_late counts the days since the due time so far)
{%- set seconds_per_day = 86400 %}

with

milestones as (
    select * from {{ ref('int_submission_milestones') }}
),

calendar as (
    select * from {{ ref('filing_calendar') }}
),

clock as (
    select
        {{ as_of_timestamp() }} as as_of,
        {{ local_date(as_of_timestamp()) }} as as_of_date
),

enterprises as (
    select
        enterprise_id,
        max(ent_type) as ent_type,
        min(period_start) as first_period_start
    from milestones
    group by 1
),

month_numbers as (
    -- enough months for a century of filings
    {{ dbt.generate_series(1200) }}
),

expected_months as (
    select
        enterprises.enterprise_id,
        enterprises.ent_type,
        cast({{ dbt.dateadd(
                'month',
                'month_numbers.generated_number - 1',
                'enterprises.first_period_start'
            ) }} as date) as period_start
    from enterprises
    cross join month_numbers
),

expected_periods as (
    select
        expected_months.enterprise_id,
        expected_months.ent_type,
        {{ period_of('expected_months.period_start') }} as period,
        expected_months.period_start,
        cast({{ dbt.last_day('expected_months.period_start', 'month') }} as date) as period_end
    from expected_months
    cross join clock
    where cast({{ dbt.last_day('expected_months.period_start', 'month') }} as date) < clock.as_of_date
),

calendar_rows as (
    select
        expected_periods.*,
        calendar.due_day,
        calendar.due_time,
        calendar.close_days,
        calendar.timezone,
        row_number() over (
            partition by expected_periods.enterprise_id, expected_periods.period
            order by case when calendar.ent_type = '*' then 1 else 0 end, calendar.valid_from desc
        ) as preference
    from expected_periods
    inner join calendar
        on calendar.ent_type in (expected_periods.ent_type, '*')
        and calendar.valid_from <= expected_periods.period_end
        and expected_periods.period_end < calendar.valid_to
),

deadlines as (
    select
        enterprise_id,
        ent_type,
        period,
        period_start,
        period_end,
        {{ local_to_instant(
            "cast(cast(cast(" ~ dbt.dateadd('day', 'due_day', 'period_end') ~ " as date) as "
            ~ dbt.type_string() ~ ") || ' ' || due_time as " ~ dbt.type_timestamp() ~ ")",
            'timezone') }} as due_at,
        close_days
    from calendar_rows
    where preference = 1
),

deadlines_with_close as (
    select
        *,
        {{ dbt.dateadd('day', 'close_days', 'due_at') }} as close_at
    from deadlines
),

received as (
    select
        enterprise_id,
        period,
        count(*) as versions_received,
        min(received_at) as first_received_at,
        max(case when is_current then submission_id end) as current_submission_id
    from milestones
    group by 1, 2
),

first_accepted as (
    select
        *,
        row_number() over (partition by enterprise_id, period order by received_at, version) as acceptance_order
    from milestones
    where accepted_at is not null
),

joined as (
    select
        deadlines_with_close.*,
        clock.as_of,
        coalesce(received.versions_received, 0) as versions_received,
        received.first_received_at,
        received.current_submission_id,
        first_accepted.submission_id as first_accepted_submission_id,
        first_accepted.received_at as first_accepted_received_at,
        first_accepted.accepted_at as first_accepted_at
    from deadlines_with_close
    cross join clock
    left join received
        on deadlines_with_close.enterprise_id = received.enterprise_id
        and deadlines_with_close.period = received.period
    left join first_accepted
        on deadlines_with_close.enterprise_id = first_accepted.enterprise_id
        and deadlines_with_close.period = first_accepted.period
        and first_accepted.acceptance_order = 1
),

final as (
    select
        enterprise_id,
        ent_type,
        period,
        period_end,
        due_at,
        close_at,
        versions_received,
        first_received_at,
        first_accepted_submission_id,
        first_accepted_received_at,
        first_accepted_at,
        current_submission_id,
        case
            when first_accepted_submission_id is not null and first_accepted_received_at <= due_at then 'on_time'
            when first_accepted_submission_id is not null then 'late'
            when as_of >= close_at then 'missing'
            else 'pending'
        end as timeliness_status,
        cast(case
            when first_accepted_submission_id is not null
                then greatest(0, ceil({{ dbt.datediff(
                        'due_at',
                        'first_accepted_received_at',
                        'second'
                    ) }} / {{ seconds_per_day }}.0))
            when as_of > due_at
                then ceil({{ dbt.datediff(
                        'due_at',
                        'as_of',
                        'second'
                    ) }} / {{ seconds_per_day }}.0)
            else 0
        end as integer) as days_late,
        as_of >= close_at as is_closed,
        case
            when as_of >= close_at
                then first_accepted_at is null or first_accepted_at > close_at
        end as is_missing_at_close,
        {{ as_of_timestamp() }} as computed_at
    from joined
)

select * from final
