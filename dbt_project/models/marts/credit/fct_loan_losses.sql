-- CRD-003 Loss rate (P2P, CF; monthly), from int_loan_book.
-- annualised_loss_rate: (sum written_off_in_period - sum recovered_in_period) / average outstanding
-- principal (the mean of this and the previous period's totals; this period's alone without one)
-- x 12 (monthly periods, annualised). Screened against peers of the same type (robust z): WARN when it
-- fires, INSUFFICIENT_PEERS with fewer than min_peers peers.
-- cumulative_loss_rate by dimension origination_month (INFO): net losses of the cohort's loans summed
-- over the periods so far / the cohort's contract principal.
{%- set indicator_id = 'CRD-003' %}
{%- set periods_per_year = 12 %}

with

loan_book as (
    select * from {{ ref('int_loan_book') }}
),

enterprise_periods as (
    select
        *,
        {{ period_index('period') }} as period_index
    from {{ ref('int_enterprise_periods') }}
    where {{ indicator_applies(indicator_id, 'ent_type') }}
),

period_totals as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.ent_type,
        enterprise_periods.period_index,
        coalesce(sum(loan_book.outstanding_principal), 0) as outstanding,
        coalesce(sum(loan_book.written_off_in_period), 0) as written_off,
        coalesce(sum(loan_book.recovered_in_period), 0) as recovered
    from enterprise_periods
    left join loan_book
        on enterprise_periods.enterprise_id = loan_book.enterprise_id
        and enterprise_periods.period = loan_book.period
    group by 1, 2, 3, 4
),

loss_rates as (
    select
        period_totals.enterprise_id,
        period_totals.ent_type,
        period_totals.period,
        '{{ indicator_id }}' as indicator_id,
        'annualised_loss_rate' as metric,
        cast(null as {{ dbt.type_string() }}) as dimension,
        cast(null as {{ dbt.type_string() }}) as dimension_value,
        period_totals.written_off - period_totals.recovered as numerator,
        case
            when previous.enterprise_id is null then period_totals.outstanding
            else (period_totals.outstanding + previous.outstanding) / 2
        end as denominator,
        period_totals.written_off,
        period_totals.recovered
    from period_totals
    left join period_totals as previous
        on period_totals.enterprise_id = previous.enterprise_id
        and previous.period_index = period_totals.period_index - 1
),

loss_values as (
    select
        *,
        {{ periods_per_year }} * cast(numerator as {{ type_double() }}) / nullif(denominator, 0) as value
    from loss_rates
),

loss_scored as (
    {%- set row_status %}
        case
            when loss_values.denominator = 0 then 'NOT_APPLICABLE'
            else {{ screen_status('peer_screen', 'peers') }}
        end
    {%- endset %}
    {%- set row_evidence %}
        'written off CNY ' || {{ num_text('loss_values.written_off') }} || ', recovered CNY '
        || {{ num_text('loss_values.recovered') }} || ', average outstanding CNY ' || {{ num_text('loss_values.denominator') }}
        || coalesce('; ' || {{ screen_evidence('peer_screen', 'peers', digits=4) }}, '')
    {%- endset %}
    select
        {{ indicator_row(indicator_id_sql='loss_values.indicator_id', metric_sql='loss_values.metric',
                         value='loss_values.value', numerator='loss_values.numerator',
                         denominator='loss_values.denominator', status=row_status,
                         threshold='peer_screen.screen_bound', evidence=row_evidence,
                         dimension='loss_values.dimension', dimension_value='loss_values.dimension_value',
                         enterprise_id='loss_values.enterprise_id', period='loss_values.period') }}
    from loss_values
    left join {{ robust_screen('loss_values', 'peers') }} as peer_screen
        on {{ screen_keys_match('loss_values', 'peer_screen') }}
),

cohort_principal as (
    select
        enterprise_id,
        loan_id,
        {{ period_of('origination_date') }} as origination_month,
        max(contract_principal) as contract_principal
    from loan_book
    group by 1, 2, 3
),

cohort_losses as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        cohort_principal.origination_month,
        sum(cohort_principal.contract_principal) as principal
    from enterprise_periods
    inner join cohort_principal
        on enterprise_periods.enterprise_id = cohort_principal.enterprise_id
        and cohort_principal.origination_month <= enterprise_periods.period
    group by 1, 2, 3
),

cohort_net_losses as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        cohort_principal.origination_month,
        sum(loan_book.written_off_in_period - loan_book.recovered_in_period) as net_loss
    from enterprise_periods
    inner join loan_book
        on enterprise_periods.enterprise_id = loan_book.enterprise_id
        and loan_book.period <= enterprise_periods.period
    inner join cohort_principal
        on loan_book.enterprise_id = cohort_principal.enterprise_id
        and loan_book.loan_id = cohort_principal.loan_id
    group by 1, 2, 3
),

cohort_scored as (
    {%- set row_value %}
        cast(coalesce(cohort_net_losses.net_loss, 0) as {{ type_double() }}) / nullif(cohort_losses.principal, 0)
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'cumulative_loss_rate', value=row_value,
                         numerator='coalesce(cohort_net_losses.net_loss, 0)',
                         denominator='cohort_losses.principal',
                         status="case when cohort_losses.principal = 0 then 'NOT_APPLICABLE' else 'INFO' end",
                         dimension="'origination_month'", dimension_value='cohort_losses.origination_month',
                         enterprise_id='cohort_losses.enterprise_id', period='cohort_losses.period') }}
    from cohort_losses
    left join cohort_net_losses
        on cohort_losses.enterprise_id = cohort_net_losses.enterprise_id
        and cohort_losses.period = cohort_net_losses.period
        and cohort_losses.origination_month = cohort_net_losses.origination_month
),

unioned as (
    select * from loss_scored
    union all
    select * from cohort_scored
)

{{ indicator_rows('unioned') }}
