-- RES-004 Segregation lag (PAY, daily): customer receipts on day d (ok customer legs from outside into a
-- CUSTOMER_WALLET) that are not in a reserve account by the close of d+1 / the receipts of d. A receipt is
-- in reserve as far as a bank leg of the same event credited a RESERVE_* account from outside by d+1.
-- BREACH above the seed's max_unsegregated_share. Rolled up to the month; evidence names the events.
{%- set indicator_id = 'RES-004' %}

with

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
),

legs as (
    select * from {{ ref('int_customer_legs_classified') }}
),

transactions as (
    select * from {{ ref('stg_filings__transactions') }}
),

accounts as (
    select * from {{ ref('stg_filings__accounts') }}
),

receipts as (
    select
        legs.enterprise_id,
        legs.period,
        enterprise_periods.ent_type,
        legs.submission_id,
        legs.event_id,
        legs.value_date,
        sum(legs.amount_cny) as received
    from legs
    inner join enterprise_periods
        on legs.submission_id = enterprise_periods.submission_id
    where enterprise_periods.ent_type = 'PAY'
        and legs.flow_direction = 'inflow'
        and legs.credit_account_class = 'CUSTOMER_WALLET'
    group by 1, 2, 3, 4, 5, 6
),

reserve_credits as (
    select
        transactions.submission_id,
        transactions.event_id,
        transactions.value_date,
        sum(transactions.amount_cny) as reserved
    from transactions
    inner join accounts
        on transactions.submission_id = accounts.submission_id
        and transactions.credit_account_id = accounts.account_id
    where transactions.leg = 'bank'
        and transactions.status = 'ok'
        and transactions.debit_account_id is null
        and accounts.account_class in ('RESERVE_CENTRAL', 'RESERVE_BANK')
    group by 1, 2, 3
),

receipt_gaps as (
    select
        receipts.*,
        greatest(receipts.received - coalesce(reserve_credits.reserved, 0), 0) as unsegregated
    from receipts
    left join reserve_credits
        on receipts.submission_id = reserve_credits.submission_id
        and receipts.event_id = reserve_credits.event_id
        and reserve_credits.value_date <= {{ dbt.dateadd('day', 1, 'receipts.value_date') }}
),

daily as (
    select
        enterprise_id,
        period,
        ent_type,
        value_date as biz_date,
        sum(received) as received,
        sum(unsegregated) as unsegregated,
        {{ dbt.listagg("case when unsegregated > 0 then event_id end", "', '", "order by event_id") }} as gap_events
    from receipt_gaps
    group by 1, 2, 3, 4
),

daily_scored as (
    {%- set row_value %}
        cast(daily.unsegregated as {{ type_double() }}) / nullif(daily.received, 0)
    {%- endset %}
    {%- set row_status %}
        case
            when daily.received = 0 then 'NOT_APPLICABLE'
            else {{ threshold_status('cast(daily.unsegregated as ' ~ type_double() ~ ') / daily.received', 'max_share') }}
        end
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'unsegregated_share', value=row_value, numerator='daily.unsegregated',
                         denominator='daily.received', status=row_status, threshold='max_share.value',
                         evidence="case when daily.unsegregated > 0 then 'events not in reserve by d+1: ' || daily.gap_events end",
                         as_of_date='daily.biz_date', enterprise_id='daily.enterprise_id',
                         period='daily.period') }}
    from daily
    {{ join_threshold(
        'max_unsegregated_share',
        alias='max_share',
        indicator=indicator_id,
        ent_type='daily.ent_type',
        on_date='daily.biz_date'
    ) }}
),

rolled_up as (
    select * from {{ daily_rollup('daily_scored', 'unsegregated_share', worst='max') }}
),

unioned as (
    select * from daily_scored
    union all
    select * from rolled_up
)

{{ indicator_rows('unioned') }}
