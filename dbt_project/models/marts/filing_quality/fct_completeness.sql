-- FQ-003 Completeness (indicators.md): over all versions received for the enterprise x period, the true
-- number of findings of the catalog rules that feed FQ-003 (rule_catalog.fq_id: null required fields,
-- missing expected rows, ...), latest result per version and rule. BREACH above max_findings.
{%- set indicator_id = 'FQ-003' %}

with

counts as (
    {{ fq_rule_finding_counts(indicator_id) }}
),

scored as (
    {{ fq_findings_row(indicator_id, 'no completeness finding') }}
)

{{ indicator_rows('scored') }}
