-- CRD-001 Overdue rate by bucket (P2P, CF with a loan book; monthly), from int_loan_book.
-- overdue_principal_share: outstanding principal of loans 1+ days past due / total outstanding
-- principal (dimension null), and per bucket M1, M2, M3, M3+ (dimension overdue_bucket, INFO);
-- overdue_count_share: the same by number of loans with outstanding principal (INFO).
-- The total principal share WARNs when it is above the peer percentile (peer_percentile, with the
-- robust peer screen firing), or when it rose by more than max_qoq_rise against the value three periods
-- earlier (relative to max(that value, min_size)); INSUFFICIENT_PEERS when neither screen can run,
-- INSUFFICIENT_DATA with fewer than min_loans loans outstanding (a share of a handful of loans is noise).
-- NOT_APPLICABLE without outstanding principal. Evidence names the worst loans.
{%- set indicator_id = 'CRD-001' %}
{%- set buckets = ['M1', 'M2', 'M3', 'M3+'] %}

with

loan_book as (
    select * from {{ ref('int_loan_book') }}
    where outstanding_principal > 0
),

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
    where {{ indicator_applies(indicator_id, 'ent_type') }}
),

totals as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.ent_type,
        enterprise_periods.period_end,
        {{ period_index('enterprise_periods.period') }} as period_index,
        coalesce(sum(loan_book.outstanding_principal), 0) as outstanding,
        count(loan_book.loan_id) as loans,
        coalesce(sum(case when loan_book.overdue_bucket is not null then loan_book.outstanding_principal end), 0)
            as overdue_outstanding,
        count(loan_book.overdue_bucket) as overdue_loans
    from enterprise_periods
    left join loan_book
        on enterprise_periods.enterprise_id = loan_book.enterprise_id
        and enterprise_periods.period = loan_book.period
    group by 1, 2, 3, 4, 5
),

worst_loans as (
    select
        enterprise_id,
        period,
        {{ dbt.listagg(
            "loan_id || ' (' || cast(days_past_due as " ~ dbt.type_string() ~ ") || ' dpd)'",
            "', '",
            "order by days_past_due desc, loan_id",
            5
        ) }}
            as loans
    from loan_book
    where overdue_bucket is not null
    group by 1, 2
),

bucket_rows as (
    {%- for bucket in buckets %}
    select
        totals.enterprise_id,
        totals.period,
        '{{ bucket }}' as bucket,
        totals.outstanding,
        totals.loans,
        coalesce(sum(loan_book.outstanding_principal), 0) as bucket_outstanding,
        count(loan_book.loan_id) as bucket_loans
    from totals
    left join loan_book
        on totals.enterprise_id = loan_book.enterprise_id
        and totals.period = loan_book.period
        and loan_book.overdue_bucket = '{{ bucket }}'
    group by 1, 2, 3, 4, 5
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

total_shares as (
    select
        enterprise_id,
        ent_type,
        period,
        period_end,
        period_index,
        '{{ indicator_id }}' as indicator_id,
        'overdue_principal_share' as metric,
        cast(null as {{ dbt.type_string() }}) as dimension,
        cast(null as {{ dbt.type_string() }}) as dimension_value,
        loans,
        overdue_outstanding as numerator,
        outstanding as denominator,
        cast(overdue_outstanding as {{ type_double() }}) / nullif(outstanding, 0) as value
    from totals
),

screened as (
    select
        total_shares.*,
        earlier.value as earlier_value,
        greatest(earlier.value, min_size.value) * (1 + max_qoq_rise.value) as qoq_bound,
        earlier.value is not null and {{ compare(
                '(total_shares.value - earlier.value) / greatest(earlier.value, min_size.value)',
                'max_qoq_rise'
            ) }}
            as qoq_fires,
        peer_screen.screen_sufficient,
        {{ percentile_screen_fires('total_shares.value', 'peer_screen', 'peer_pctl') }} as peer_fires,
        {{ percentile_screen_bound('peer_screen', 'peer_pctl') }} as peer_bound,
        peer_pctl.pctl_value,
        peer_screen.screen_severity,
        max_qoq_rise.severity as qoq_severity,
        {{ screen_evidence('peer_screen', 'peers', digits=4) }} as peer_evidence
    from total_shares
    {{ join_threshold('qoq_lag', indicator=indicator_id, ent_type='total_shares.ent_type', on_date='total_shares.period_end') }}
    left join total_shares as earlier
        on total_shares.enterprise_id = earlier.enterprise_id
        and earlier.period_index = total_shares.period_index - qoq_lag.value
    left join {{ robust_screen('total_shares', 'peers') }} as peer_screen
        on {{ screen_keys_match('total_shares', 'peer_screen') }}
    left join {{ peer_percentile('total_shares', 'peer_percentile') }} as peer_pctl
        on {{ screen_keys_match('total_shares', 'peer_pctl') }}
    {{ join_threshold(
        'max_qoq_rise',
        indicator=indicator_id,
        ent_type='total_shares.ent_type',
        on_date='total_shares.period_end'
    ) }}
    {{ join_threshold('min_size', indicator=indicator_id, ent_type='total_shares.ent_type', on_date='total_shares.period_end') }}
),

total_scored as (
    {%- set row_status %}
        case
            when screened.denominator = 0 then 'NOT_APPLICABLE'
            when not {{ compare('screened.loans', 'min_loans') }} then 'INSUFFICIENT_DATA'
            when screened.peer_fires then screened.screen_severity
            when screened.qoq_fires then screened.qoq_severity
            when not screened.screen_sufficient and screened.earlier_value is null then 'INSUFFICIENT_PEERS'
            else 'OK'
        end
    {%- endset %}
    {%- set row_threshold %}
        least(
            case when screened.screen_sufficient then screened.peer_bound end,
            case when screened.earlier_value is not null then screened.qoq_bound end
        )
    {%- endset %}
    {%- set row_evidence %}
        'CNY ' || {{ num_text('screened.numerator') }} || ' of CNY ' || {{ num_text('screened.denominator') }}
        || ' outstanding overdue'
        || coalesce('; ' || screened.peer_evidence, '')
        || coalesce('; peer percentile ' || {{ num_text('screened.pctl_value', 4) }}, '')
        || coalesce('; three periods earlier ' || {{ num_text('screened.earlier_value', 4) }}, '')
        || coalesce('; worst loans ' || worst_loans.loans, '')
    {%- endset %}
    select
        {{ indicator_row(indicator_id_sql='screened.indicator_id', metric_sql='screened.metric',
                         value='screened.value', numerator='screened.numerator',
                         denominator='screened.denominator', status=row_status, threshold=row_threshold,
                         evidence=row_evidence, dimension='screened.dimension',
                         dimension_value='screened.dimension_value', enterprise_id='screened.enterprise_id',
                         period='screened.period') }}
    from screened
    left join worst_loans
        on screened.enterprise_id = worst_loans.enterprise_id
        and screened.period = worst_loans.period
    {{ join_threshold('min_loans', indicator=indicator_id, ent_type='screened.ent_type', on_date='screened.period_end') }}
),

bucket_scored as (
    {%- set row_value %}
        cast(numerator as {{ type_double() }}) / nullif(denominator, 0)
    {%- endset %}
    select
        {{ indicator_row(indicator_id, metric_sql='metric', value=row_value, numerator='numerator',
                         denominator='denominator',
                         status="case when denominator = 0 then 'NOT_APPLICABLE' else 'INFO' end",
                         dimension="'overdue_bucket'", dimension_value='bucket') }}
    from (
        select enterprise_id, period, bucket, 'overdue_principal_share' as metric,
               bucket_outstanding as numerator, outstanding as denominator
        from bucket_rows
        union all
        select enterprise_id, period, bucket, 'overdue_count_share' as metric,
               bucket_loans as numerator, loans as denominator
        from bucket_rows
    ) as bucket_values
),

count_total as (
    {%- set row_value %}
        cast(overdue_loans as {{ type_double() }}) / nullif(loans, 0)
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'overdue_count_share', value=row_value, numerator='overdue_loans',
                         denominator='loans',
                         status="case when loans = 0 then 'NOT_APPLICABLE' else 'INFO' end") }}
    from totals
),

unioned as (
    select * from total_scored
    union all
    select * from bucket_scored
    union all
    select * from count_total
)

{{ indicator_rows('unioned') }}
