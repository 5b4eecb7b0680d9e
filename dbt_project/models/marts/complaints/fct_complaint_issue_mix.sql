-- CPL-004 Issue mix (all types, monthly): the share of complaints received in the period (Shanghai
-- date of received_at) by product (dimension product, INFO) and by issue (dimension issue), identical
-- free-text values grouped ('none' where null). An issue seen in the enterprise's last max_history
-- periods keeps a row (share 0) while absent, so its history is complete. Each issue share is screened
-- against the enterprise's own history (upward robust z, sigma at least the binomial sampling noise of the
-- shares compared): WARN when it jumps (history_robust_z and min_rel_change of the seed), INSUFFICIENT_HISTORY
-- with fewer than min_history previous periods,
-- INSUFFICIENT_DATA with fewer than min_complaints complaints received (shares of a handful are noise).
{%- set indicator_id = 'CPL-004' %}

with

enterprise_periods as (
    select
        *,
        {{ period_index('period') }} as period_index
    from {{ ref('int_enterprise_periods') }}
),

complaints as (
    select * from {{ ref('stg_filings__complaints') }}
),

received as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        coalesce(complaints.product, 'none') as product,
        coalesce(complaints.issue, 'none') as issue
    from enterprise_periods
    inner join complaints
        on enterprise_periods.enterprise_id = complaints.enterprise_id
        and enterprise_periods.period = complaints.period
    where complaints.received_date_sh between enterprise_periods.period_start and enterprise_periods.period_end
),

totals as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.ent_type,
        enterprise_periods.period_end,
        enterprise_periods.period_index,
        count(received.enterprise_id) as complaints
    from enterprise_periods
    left join received
        on enterprise_periods.enterprise_id = received.enterprise_id
        and enterprise_periods.period = received.period
    group by 1, 2, 3, 4, 5
),

category_counts as (
    select enterprise_id, period, 'product' as dimension, product as dimension_value, count(*) as complaints
    from received
    group by 1, 2, 3, 4
    union all
    select enterprise_id, period, 'issue' as dimension, issue as dimension_value, count(*) as complaints
    from received
    group by 1, 2, 3, 4
),

category_periods as (
    select distinct
        totals.enterprise_id,
        totals.period,
        category_counts.dimension,
        category_counts.dimension_value
    from totals
    inner join category_counts
        on totals.enterprise_id = category_counts.enterprise_id
    inner join totals as seen
        on category_counts.enterprise_id = seen.enterprise_id
        and category_counts.period = seen.period
    {{ join_threshold('max_history', indicator=indicator_id, ent_type='totals.ent_type', on_date='totals.period_end') }}
    where seen.period_index <= totals.period_index
        and seen.period_index >= totals.period_index - max_history.value
),

shares as (
    select
        totals.enterprise_id,
        totals.ent_type,
        totals.period,
        '{{ indicator_id }}' as indicator_id,
        'complaint_share' as metric,
        category_periods.dimension,
        category_periods.dimension_value,
        coalesce(category_counts.complaints, 0) as numerator,
        totals.complaints as denominator,
        cast(coalesce(category_counts.complaints, 0) as {{ type_double() }}) / nullif(totals.complaints, 0) as value
    from category_periods
    inner join totals
        on category_periods.enterprise_id = totals.enterprise_id
        and category_periods.period = totals.period
    left join category_counts
        on category_periods.enterprise_id = category_counts.enterprise_id
        and category_periods.period = category_counts.period
        and category_periods.dimension = category_counts.dimension
        and category_periods.dimension_value = category_counts.dimension_value
),

-- each issue share with its binomial sampling noise sqrt(s (1 - s) / n): a share of a few dozen
-- complaints moves by several points from month to month by chance alone, which the screen never flags
issue_shares as (
    select
        *,
        sqrt(value * (1 - value) / nullif(denominator, 0)) as noise_sd
    from shares
    where dimension = 'issue'
),

scored as (
    {%- set row_status %}
        case
            when shares.denominator = 0 then 'NOT_APPLICABLE'
            when shares.dimension = 'product' then 'INFO'
            when not {{ compare('shares.denominator', 'min_complaints') }} then 'INSUFFICIENT_DATA'
            else {{ screen_status('history_screen', 'history') }}
        end
    {%- endset %}
    {%- set row_evidence %}
        cast(shares.numerator as {{ dbt.type_string() }}) || ' of ' || cast(shares.denominator as {{ dbt.type_string() }})
        || ' complaint(s)' || coalesce('; ' || {{ screen_evidence('history_screen', 'history', digits=4) }}, '')
    {%- endset %}
    select
        {{ indicator_row(indicator_id_sql='shares.indicator_id', metric_sql='shares.metric',
                         value='shares.value', numerator='shares.numerator',
                         denominator='shares.denominator', status=row_status,
                         threshold='history_screen.screen_bound', evidence=row_evidence,
                         dimension='shares.dimension', dimension_value='shares.dimension_value',
                         enterprise_id='shares.enterprise_id', period='shares.period') }}
    from shares
    left join {{ robust_screen('issue_shares', 'history', noise_sd='noise_sd') }} as history_screen
        on {{ screen_keys_match('shares', 'history_screen') }}
    {{ join_threshold(
        'min_complaints',
        indicator=indicator_id,
        ent_type='shares.ent_type',
        on_date=period_end('shares.period')
    ) }}
)

{{ indicator_rows('scored') }}
