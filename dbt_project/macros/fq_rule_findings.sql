{#- FQ-003 and FQ-004 read the findings of the catalog rules that feed them (rule_catalog.fq_id, live rules
    only), latest result per version and rule. Per enterprise x period over all versions received:
    versions, findings (true counts), failed_rules (the rules that found something), and in the current
    version current_errors (error-severity findings) and current_submission_id. -#}
{% macro fq_rule_finding_counts(indicator_id) -%}
    select
        submissions.enterprise_id,
        submissions.ent_type,
        submissions.period,
        max(submissions.period_end) as period_end,
        count(distinct submissions.submission_id) as versions,
        coalesce(sum(fq_results.finding_count), 0) as findings,
        coalesce(sum(fq_results.finding_count) filter (
            where submissions.is_current and fq_results.severity = 'error'
        ), 0) as current_errors,
        max(submissions.submission_id) filter (where submissions.is_current) as current_submission_id,
        {{ dbt.listagg(
            "distinct case when fq_results.finding_count > 0 then fq_results.rule_id end",
            "', '",
            "order by case when fq_results.finding_count > 0 then fq_results.rule_id end"
        ) }} as failed_rules
    from {{ ref('stg_intake__submissions') }} as submissions
    left join (
        select results.submission_id, results.rule_id, results.finding_count, rules.severity
        from {{ ref('stg_quality__rule_results') }} as results
        inner join {{ ref('rule_catalog') }} as rules
            on results.rule_id = rules.rule_id
        where rules.fq_id = '{{ indicator_id }}' and not rules.shadow
    ) as fq_results
        on submissions.submission_id = fq_results.submission_id
    group by submissions.enterprise_id, submissions.ent_type, submissions.period
{%- endmacro %}

{#- The indicator row `findings` of those counts (CTE `counts`): findings over all versions, screened
    against the seed's max_findings; evidence names the rules, or `none_text`. -#}
{% macro fq_findings_row(indicator_id, none_text) -%}
    {%- set row_evidence %}
        coalesce('rules ' || counts.failed_rules, '{{ none_text }}') || ' over '
        || cast(counts.versions as {{ dbt.type_string() }}) || ' version(s)'
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'findings', value='counts.findings', numerator='counts.findings',
                         denominator='counts.versions',
                         status=threshold_status('counts.findings', 'max_findings'),
                         threshold='max_findings.value', evidence=row_evidence,
                         enterprise_id='counts.enterprise_id', period='counts.period') }}
    from counts
    {{ join_threshold('max_findings', indicator=indicator_id, ent_type='counts.ent_type', on_date='counts.period_end') }}
{%- endmacro %}
