-- AML-001 (indicators.md): the large-value transactions of the ledger and whether each was reported.
-- Amounts accumulate per party, side (payer, payee), Shanghai day and kind, each against its own T; a leg
-- at or above T, or on a day whose total reaches T, is large-value. One row per large-value txn_id (the
-- first side and party that makes it one), with its reporting deadline (the report_working_days-th
-- working day after its day), whether an LVTR of this or the next period's current version reported it
-- by then, and whether that is still open (the deadline falls after the period end, the next period has
-- no current version yet and the deadline has not passed at the warehouse clock).

with

legs as (
    select * from {{ ref('int_aml_legs') }}
),

reports as (
    select * from {{ ref('stg_filings__aml_reports') }}
    where report_type = 'LVTR'
),

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

sides as (
    {%- for side in ['payer', 'payee'] %}
    select
        enterprise_id,
        ent_type,
        period,
        txn_id,
        booked_at,
        booked_date_sh,
        amount_cny,
        lv_kind,
        '{{ side }}' as side,
        {{ side }}_party_id as party_id,
        {{ side }}_lv_threshold as lv_threshold
    from legs
    where {{ side }}_party_id is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

day_totals as (
    select
        *,
        sum(amount_cny) over (
            partition by enterprise_id, party_id, side, booked_date_sh, lv_kind
        ) as day_total
    from sides
),

large as (
    select
        *,
        row_number() over (partition by enterprise_id, txn_id order by side, party_id) as side_rank
    from day_totals
    where amount_cny >= lv_threshold
        or day_total >= lv_threshold
),

large_txns as (
    select * from large
    where side_rank = 1
),

{# The working days after each large-value day, numbered; the report_working_days-th is the deadline. #}
later_days as (
    select
        large_txns.enterprise_id,
        large_txns.txn_id,
        cast(large_txns.booked_date_sh + cast(offsets.n as integer) as date) as day,
        row_number() over (
            partition by large_txns.enterprise_id, large_txns.txn_id order by offsets.n
        ) as working_day_no
    from large_txns
    cross join range(1, 31) as offsets (n)
    where {{ is_working_day('cast(large_txns.booked_date_sh + cast(offsets.n as integer) as date)') }}
),

deadlines as (
    select
        later_days.enterprise_id,
        later_days.txn_id,
        later_days.day as deadline
    from later_days
    inner join large_txns
        on later_days.enterprise_id = large_txns.enterprise_id
        and later_days.txn_id = large_txns.txn_id
    {{ join_threshold('report_working_days', 'large_txns.ent_type', 'large_txns.booked_date_sh',
                      indicator='AML-001') }}
    where later_days.working_day_no = report_working_days.value
),

reported as (
    select
        large_txns.enterprise_id,
        large_txns.txn_id,
        min(reports.submitted_date) as first_reported_date,
        min(reports.report_id) as report_id
    from large_txns
    inner join deadlines
        on large_txns.enterprise_id = deadlines.enterprise_id
        and large_txns.txn_id = deadlines.txn_id
    inner join reports
        on large_txns.enterprise_id = reports.enterprise_id
        and large_txns.txn_id = reports.txn_id
        and reports.period in (large_txns.period, {{ period_of(dbt.dateadd('month', 1, period_start('large_txns.period'))) }})
        and reports.submitted_date <= deadlines.deadline
    group by large_txns.enterprise_id, large_txns.txn_id
),

final as (
    select
        large_txns.enterprise_id,
        large_txns.ent_type,
        large_txns.period,
        large_txns.txn_id,
        large_txns.party_id,
        large_txns.side,
        large_txns.lv_kind,
        large_txns.booked_date_sh,
        large_txns.amount_cny,
        large_txns.day_total,
        large_txns.lv_threshold,
        deadlines.deadline,
        reported.report_id,
        reported.first_reported_date,
        reported.txn_id is not null as is_reported,
        reported.txn_id is null
        and deadlines.deadline > {{ period_end('large_txns.period') }}
        and next_periods.enterprise_id is null
        and {{ local_date(as_of_timestamp()) }} <= deadlines.deadline as is_pending
    from large_txns
    left join deadlines
        on large_txns.enterprise_id = deadlines.enterprise_id
        and large_txns.txn_id = deadlines.txn_id
    left join reported
        on large_txns.enterprise_id = reported.enterprise_id
        and large_txns.txn_id = reported.txn_id
    left join enterprise_periods as next_periods
        on large_txns.enterprise_id = next_periods.enterprise_id
        and next_periods.period = {{ period_of(dbt.dateadd('month', 1, period_start('large_txns.period'))) }}
)

select * from final
