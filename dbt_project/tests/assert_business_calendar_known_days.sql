-- The macro is_working_day on the seed business_calendar agrees with the State Council's notices on
-- known days (make-up working weekends, holidays) and falls back to Monday-Friday outside the seed.
with

known (day, expected) as (
    values
        (date '2018-02-11', true),   -- Sunday, make-up working day for the Spring Festival
        (date '2019-10-01', false),  -- Tuesday, National Day
        (date '2020-01-19', true),   -- Sunday, make-up working day for the Spring Festival
        (date '2020-01-31', false),  -- Friday, Spring Festival extended (2020 notice)
        (date '2024-02-04', true),   -- Sunday, make-up working day for the Spring Festival
        (date '2024-10-01', false),  -- Tuesday, National Day
        (date '2026-10-10', true),   -- Saturday, make-up working day for National Day
        (date '2026-10-11', false),  -- an ordinary Sunday
        (date '2026-10-12', true),   -- an ordinary Monday
        (date '2014-12-31', true),   -- Wednesday before the seed: Monday-Friday
        (date '2027-01-02', false)   -- Saturday after the seed: Monday-Friday
)

select day, expected
from known
where {{ is_working_day('day') }} <> expected
