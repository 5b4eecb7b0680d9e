-- FQ-007 Round numbers and copy-forward (indicators.md), per enterprise x period, from the raw rows of
-- every version received (no catalog rule underneath; the largest share over the versions counts):
--   round_number_share  share of the ok customer legs whose amount_cny is a multiple of round_unit (1,000);
--   copy_forward_share  share of the customer accounts' balance rows with movement (credits + debits > 0)
--                       that repeat, field for field, the account's row in the previous period's current
--                       version (a real account with movement cannot file the same row twice).
-- WARN above the peer percentile (seed peer_percentile) when the robust peer screen fires too;
-- INSUFFICIENT_PEERS with fewer than min_peers peers.
{%- set indicator_id = 'FQ-007' %}

{#- the version with the highest share (of equal shares, the greatest submission_id) gives numerator and denominator -#}
{%- set round_order = ['round_by_version.round_legs / round_by_version.all_legs', 'submissions.submission_id'] %}
{%- set copy_order = ['copy_by_version.copied_rows / copy_by_version.moving_rows', 'submissions.submission_id'] %}

with

submissions as (
    select * from {{ ref('stg_intake__submissions') }}
    where status <> 'MALFORMED'
),

current_submissions as (
    select * from {{ ref('stg_intake__submissions') }}
    where is_current
),

legs as (
    select submission_id, amount_cny
    from {{ source('raw', 'transactions') }}
    where leg = 'customer' and status = 'ok' and amount_cny > 0
),

accounts as (
    select distinct submission_id, account_id
    from {{ source('raw', 'accounts') }}
    where account_class like 'CUSTOMER%'
),

balances as (
    select balances.submission_id, balances.account_id, balances.opening, balances.credits, balances.debits,
        balances.closing
    from {{ source('raw', 'account_balances') }} as balances
    inner join accounts
        on balances.submission_id = accounts.submission_id and balances.account_id = accounts.account_id
),

round_unit as (
    select submissions.submission_id, round_unit.value as unit
    from submissions
    {{ join_threshold('round_unit', indicator=indicator_id, ent_type='submissions.ent_type', on_date='submissions.period_end') }}
),

round_by_version as (
    select
        legs.submission_id,
        count(*) filter (where legs.amount_cny % round_unit.unit = 0) as round_legs,
        count(*) as all_legs
    from legs
    inner join round_unit on legs.submission_id = round_unit.submission_id
    group by legs.submission_id
),

previous_rows as (
    select submissions.submission_id, balances.account_id, balances.opening, balances.credits,
        balances.debits, balances.closing
    from submissions
    inner join current_submissions as previous
        on submissions.enterprise_id = previous.enterprise_id
        and previous.period = {{ period_of('submissions.period_start - interval 1 month') }}
    inner join balances on previous.submission_id = balances.submission_id
),

copy_by_version as (
    select
        balances.submission_id,
        count(*) filter (
            where previous_rows.account_id is not null
                and balances.opening = previous_rows.opening and balances.credits = previous_rows.credits
                and balances.debits = previous_rows.debits and balances.closing = previous_rows.closing
        ) as copied_rows,
        count(*) as moving_rows
    from balances
    left join previous_rows
        on balances.submission_id = previous_rows.submission_id
        and balances.account_id = previous_rows.account_id
    where balances.credits + balances.debits > 0
        and balances.submission_id in (select submissions.submission_id from submissions)
    group by balances.submission_id
),

shares as (
    select
        submissions.enterprise_id,
        submissions.ent_type,
        submissions.period,
        max(submissions.period_end) as period_end,
        'round_number_share' as metric,
        {{ arg_max('round_by_version.round_legs', round_order) }}
            as numerator,
        {{ arg_max('round_by_version.all_legs', round_order) }}
            as denominator,
        max(cast(round_by_version.round_legs as {{ type_double() }}) / round_by_version.all_legs) as value
    from submissions
    inner join round_by_version on submissions.submission_id = round_by_version.submission_id
    group by submissions.enterprise_id, submissions.ent_type, submissions.period
    union all
    select
        submissions.enterprise_id,
        submissions.ent_type,
        submissions.period,
        max(submissions.period_end) as period_end,
        'copy_forward_share' as metric,
        {{ arg_max('copy_by_version.copied_rows', copy_order) }},
        {{ arg_max('copy_by_version.moving_rows', copy_order) }},
        max(cast(copy_by_version.copied_rows as {{ type_double() }}) / copy_by_version.moving_rows)
    from submissions
    inner join copy_by_version on submissions.submission_id = copy_by_version.submission_id
    group by submissions.enterprise_id, submissions.ent_type, submissions.period
),

measured as (
    select
        enterprise_id,
        ent_type,
        period,
        period_end,
        '{{ indicator_id }}' as indicator_id,
        metric,
        cast(null as {{ dbt.type_string() }}) as dimension,
        cast(null as {{ dbt.type_string() }}) as dimension_value,
        numerator,
        denominator,
        value
    from shares
),

scored as (
    {%- set row_status %}
        case
            when measured.value is null then 'NOT_APPLICABLE'
            when not screen.screen_sufficient then 'INSUFFICIENT_PEERS'
            when {{ percentile_screen_fires('measured.value', 'screen', 'percentile') }} then screen.screen_severity
            else 'OK'
        end
    {%- endset %}
    {%- set row_evidence %}
        cast(measured.numerator as {{ dbt.type_string() }}) || ' of ' || cast(measured.denominator as {{ dbt.type_string() }})
        || '; ' || coalesce({{ screen_evidence('screen', 'peers') }}, 'too few peers')
        || coalesce(', peer percentile ' || {{ num_text('percentile.pctl_value', 4) }}, '')
    {%- endset %}
    select
        {{ indicator_row(indicator_id_sql='measured.indicator_id', metric_sql='measured.metric',
                         value='measured.value', numerator='measured.numerator',
                         denominator='measured.denominator', status=row_status,
                         threshold=percentile_screen_bound('screen', 'percentile'), evidence=row_evidence,
                         dimension='measured.dimension', dimension_value='measured.dimension_value',
                         enterprise_id='measured.enterprise_id', period='measured.period') }}
    from measured
    left join {{ robust_screen('measured', 'peers') }} as screen
        on {{ screen_keys_match('measured', 'screen') }}
    left join {{ peer_percentile('measured', 'peer_percentile') }} as percentile
        on {{ screen_keys_match('measured', 'percentile') }}
)

{{ indicator_rows('scored') }}
