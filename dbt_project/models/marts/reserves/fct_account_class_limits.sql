-- RES-006 Account-class limit breaches (PAY, monthly). Balance-funded payments = ok customer legs with
-- purpose payment debiting a CUSTOMER_WALLET (any channel), per payer. class_limit_breaches: natural
-- persons who paid in the period and whose payments exceed their KYC class limit - class I since opening
-- (all the warehouse's history up to period end), class II and III in the calendar year to date.
-- qr_static_breaches: payer-days whose static-QR payments exceed the daily limit. Limits in the seed;
-- BREACH above max_breaches. Evidence names the parties (and days).
{%- set indicator_id = 'RES-006' %}

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

legs as (
    select * from {{ ref('int_customer_legs_classified') }}
),

parties as (
    select * from {{ ref('stg_filings__parties') }}
),

payments as (
    select
        legs.enterprise_id,
        legs.period,
        legs.payer_party_id,
        legs.booked_date_sh,
        legs.channel,
        legs.amount_cny
    from legs
    inner join enterprise_periods
        on legs.submission_id = enterprise_periods.submission_id
    where enterprise_periods.ent_type = 'PAY'
        and legs.purpose = 'payment'
        and legs.debit_account_class = 'CUSTOMER_WALLET'
        and legs.payer_party_id is not null
),

payer_periods as (
    select enterprise_id, period, payer_party_id, sum(amount_cny) as paid
    from payments
    group by 1, 2, 3
),

payer_totals as (
    -- per scored period: what each payer of the period paid in all history and in the year to date
    select
        scored.enterprise_id,
        scored.period,
        scored.payer_party_id,
        sum(history.paid) as paid_since_opening,
        sum(case when substr(history.period, 1, 4) = substr(scored.period, 1, 4) then history.paid else 0 end)
            as paid_year_to_date
    from payer_periods as scored
    inner join payer_periods as history
        on scored.enterprise_id = history.enterprise_id
        and scored.payer_party_id = history.payer_party_id
        and history.period <= scored.period
    group by 1, 2, 3
),

class_checks as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        payer_totals.payer_party_id,
        parties.kyc_class,
        case parties.kyc_class
            when 'I' then payer_totals.paid_since_opening
            else payer_totals.paid_year_to_date
        end as paid,
        case parties.kyc_class
            when 'I' then {{ compare('payer_totals.paid_since_opening', 'class_i') }}
            when 'II' then {{ compare('payer_totals.paid_year_to_date', 'class_ii') }}
            when 'III' then {{ compare('payer_totals.paid_year_to_date', 'class_iii') }}
        end as exceeds
    from payer_totals
    inner join enterprise_periods
        on payer_totals.enterprise_id = enterprise_periods.enterprise_id
        and payer_totals.period = enterprise_periods.period
    inner join parties
        on enterprise_periods.submission_id = parties.submission_id
        and payer_totals.payer_party_id = parties.party_id
    {{ join_threshold(
        'class_i_limit',
        alias='class_i',
        indicator=indicator_id,
        ent_type='enterprise_periods.ent_type',
        on_date='enterprise_periods.period_end'
    ) }}
    {{ join_threshold(
        'class_ii_ytd_limit',
        alias='class_ii',
        indicator=indicator_id,
        ent_type='enterprise_periods.ent_type',
        on_date='enterprise_periods.period_end'
    ) }}
    {{ join_threshold(
        'class_iii_ytd_limit',
        alias='class_iii',
        indicator=indicator_id,
        ent_type='enterprise_periods.ent_type',
        on_date='enterprise_periods.period_end'
    ) }}
    where parties.party_type = 'natural'
),

qr_days as (
    select
        payments.enterprise_id,
        payments.period,
        payments.payer_party_id,
        payments.booked_date_sh,
        sum(payments.amount_cny) as paid
    from payments
    where payments.channel = 'qr_static'
    group by 1, 2, 3, 4
),

qr_checks as (
    select
        qr_days.*,
        {{ compare('qr_days.paid', 'qr_limit') }} as exceeds
    from qr_days
    inner join enterprise_periods
        on qr_days.enterprise_id = enterprise_periods.enterprise_id
        and qr_days.period = enterprise_periods.period
    {{ join_threshold(
        'qr_static_daily_limit',
        alias='qr_limit',
        indicator=indicator_id,
        ent_type='enterprise_periods.ent_type',
        on_date='qr_days.booked_date_sh'
    ) }}
),

counts as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.ent_type,
        enterprise_periods.period_end,
        'class_limit_breaches' as metric,
        count(class_checks.payer_party_id) as breaches,
        {{ dbt.listagg(
            "class_checks.payer_party_id || ' (class ' || class_checks.kyc_class || ')'",
            "', '",
            "order by class_checks.payer_party_id"
        ) }} as listed
    from enterprise_periods
    left join class_checks
        on enterprise_periods.enterprise_id = class_checks.enterprise_id
        and enterprise_periods.period = class_checks.period
        and class_checks.exceeds
    where enterprise_periods.ent_type = 'PAY'
    group by 1, 2, 3, 4, 5
    union all
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.ent_type,
        enterprise_periods.period_end,
        'qr_static_breaches' as metric,
        count(qr_checks.payer_party_id) as breaches,
        {{ dbt.listagg(
            "qr_checks.payer_party_id || ' on ' || cast(qr_checks.booked_date_sh as " ~ dbt.type_string() ~ ")",
            "', '",
            "order by qr_checks.payer_party_id, qr_checks.booked_date_sh"
        ) }} as listed
    from enterprise_periods
    left join qr_checks
        on enterprise_periods.enterprise_id = qr_checks.enterprise_id
        and enterprise_periods.period = qr_checks.period
        and qr_checks.exceeds
    where enterprise_periods.ent_type = 'PAY'
    group by 1, 2, 3, 4, 5
),

scored as (
    {%- set row_value %}
        cast(counts.breaches as {{ type_double() }})
    {%- endset %}
    select
        {{ indicator_row(indicator_id, metric_sql='counts.metric', value=row_value,
                         numerator='counts.breaches', denominator='1',
                         status=threshold_status('counts.breaches', 'max_breaches'),
                         threshold='max_breaches.value',
                         evidence='case when counts.breaches > 0 then counts.listed end',
                         enterprise_id='counts.enterprise_id', period='counts.period') }}
    from counts
    {{ join_threshold('max_breaches', indicator=indicator_id, ent_type='counts.ent_type', on_date='counts.period_end') }}
)

{{ indicator_rows('scored') }}
