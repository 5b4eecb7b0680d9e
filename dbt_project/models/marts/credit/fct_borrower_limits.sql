-- CRD-005 Per-borrower limit breach (P2P, CF; monthly, at period end), from int_loan_book.
-- borrowers_over_platform_limit: borrowers whose outstanding principal on this platform (summed per
-- borrower_party_id) is above max_outstanding_natural or max_outstanding_legal by their party type.
-- borrowers_over_cross_platform_limit: this platform's borrowers whose outstanding principal summed by
-- id_hash over the current versions of every P2P and CF platform in the same period is above
-- max_cross_platform_natural / _legal. Counts (denominator 1; the evidence gives the platform's
-- borrowers); both BREACH above max_borrowers_over_limit. Evidence names the platform's party ids (never
-- the id_hash). Regulator-only: no filer edit report reads this mart.
{%- set indicator_id = 'CRD-005' %}

with

loan_book as (
    select * from {{ ref('int_loan_book') }}
    where outstanding_principal > 0
),

enterprise_periods as (
    select * from {{ ref('int_enterprise_periods') }}
    where {{ indicator_applies(indicator_id, 'ent_type') }}
),

platform_borrowers as (
    select
        enterprise_id,
        period,
        ent_type,
        period_end,
        borrower_party_id,
        max(borrower_party_type) as party_type,
        max(borrower_id_hash) as id_hash,
        sum(outstanding_principal) as outstanding
    from loan_book
    group by 1, 2, 3, 4, 5
),

cross_platform as (
    select
        period,
        id_hash,
        sum(outstanding) as outstanding,
        count(distinct enterprise_id) as platforms
    from platform_borrowers
    where id_hash is not null
    group by 1, 2
),

judged as (
    select
        platform_borrowers.*,
        cross_platform.outstanding as cross_outstanding,
        cross_platform.platforms,
        platform_borrowers.outstanding > case platform_borrowers.party_type
            when 'legal' then max_outstanding_legal.value else max_outstanding_natural.value
        end as over_platform_limit,
        coalesce(cross_platform.outstanding > case platform_borrowers.party_type
            when 'legal' then max_cross_platform_legal.value else max_cross_platform_natural.value
        end, false) as over_cross_limit
    from platform_borrowers
    left join cross_platform
        on platform_borrowers.period = cross_platform.period
        and platform_borrowers.id_hash = cross_platform.id_hash
    {{ join_threshold(
        'max_outstanding_natural',
        indicator=indicator_id,
        ent_type='platform_borrowers.ent_type',
        on_date='platform_borrowers.period_end'
    ) }}
    {{ join_threshold(
        'max_outstanding_legal',
        indicator=indicator_id,
        ent_type='platform_borrowers.ent_type',
        on_date='platform_borrowers.period_end'
    ) }}
    {{ join_threshold(
        'max_cross_platform_natural',
        indicator=indicator_id,
        ent_type='platform_borrowers.ent_type',
        on_date='platform_borrowers.period_end'
    ) }}
    {{ join_threshold(
        'max_cross_platform_legal',
        indicator=indicator_id,
        ent_type='platform_borrowers.ent_type',
        on_date='platform_borrowers.period_end'
    ) }}
),

counts as (
    select
        enterprise_id,
        period,
        count(*) as borrowers,
        sum(case when over_platform_limit then 1 else 0 end) as over_platform,
        sum(case when over_cross_limit then 1 else 0 end) as over_cross,
        {{ dbt.listagg(
            "case when over_platform_limit then borrower_party_id || ' CNY ' || " ~ num_text('outstanding') ~ " end",
            "', '",
            "order by borrower_party_id"
        ) }}
            as over_platform_parties,
        {{ dbt.listagg(
            "case when over_cross_limit then borrower_party_id || ' CNY ' || "
              ~ num_text('cross_outstanding')
              ~ " || ' on ' || cast(platforms as "
              ~ dbt.type_string()
              ~ ") || ' platform(s)' end",
            "', '",
            "order by borrower_party_id"
        ) }}
            as over_cross_parties
    from judged
    group by 1, 2
),

measures as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.ent_type,
        enterprise_periods.period_end,
        coalesce(counts.borrowers, 0) as borrowers,
        coalesce(counts.over_platform, 0) as over_platform,
        coalesce(counts.over_cross, 0) as over_cross,
        counts.over_platform_parties,
        counts.over_cross_parties
    from enterprise_periods
    left join counts
        on enterprise_periods.enterprise_id = counts.enterprise_id
        and enterprise_periods.period = counts.period
),

unioned as (
    {%- set row_value %}
        cast(measures.over_platform as {{ type_double() }})
    {%- endset %}
    {%- set row_evidence %}
        cast(measures.over_platform as {{ dbt.type_string() }}) || ' of ' || cast(measures.borrowers as {{ dbt.type_string() }})
        || ' borrower(s) over the platform limit' || coalesce(': ' || measures.over_platform_parties, '')
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'borrowers_over_platform_limit', value=row_value,
                         numerator='measures.over_platform', denominator='1',
                         status=threshold_status('measures.over_platform', 'max_borrowers_over_limit'),
                         threshold='max_borrowers_over_limit.value', evidence=row_evidence,
                         enterprise_id='measures.enterprise_id', period='measures.period') }}
    from measures
    {{ join_threshold(
        'max_borrowers_over_limit',
        indicator=indicator_id,
        ent_type='measures.ent_type',
        on_date='measures.period_end'
    ) }}
    union all
    select
        measures.enterprise_id, measures.period, '{{ indicator_id }}',
        'borrowers_over_cross_platform_limit',
        cast(null as date),
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        cast(measures.over_cross as {{ type_double() }}),
        measures.over_cross,
        1,
        max_borrowers_over_limit.value,
        {{ threshold_status('measures.over_cross', 'max_borrowers_over_limit') }},
        cast(measures.over_cross as {{ dbt.type_string() }}) || ' of ' || cast(measures.borrowers as {{ dbt.type_string() }})
        || ' borrower(s) over the cross-platform limit' || coalesce(': ' || measures.over_cross_parties, '')
    from measures
    {{ join_threshold(
        'max_borrowers_over_limit',
        indicator=indicator_id,
        ent_type='measures.ent_type',
        on_date='measures.period_end'
    ) }}
)

{{ indicator_rows('unioned') }}
