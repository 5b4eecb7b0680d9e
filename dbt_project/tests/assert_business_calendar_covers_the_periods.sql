-- Working days after a period's end (AML-001's five working days, RES-003's next working day) must come
-- from the business calendar seed, not from its Monday-Friday fallback: warn for every enterprise period
-- whose month after the end runs past the seed's last day. Extend the seed (python -m
-- pipelines.business_calendar with a chinesecalendar release that has the year, then `make docs`).
{{ config(severity='warn') }}

select
    enterprise_periods.enterprise_id,
    enterprise_periods.period,
    calendar.last_day
from {{ ref('int_enterprise_periods') }} as enterprise_periods
cross join (select max(day) as last_day from {{ ref('business_calendar') }}) as calendar
where {{ dbt.dateadd('day', 31, 'enterprise_periods.period_end') }} > calendar.last_day
