{#- The rows of raw.<filing_type> that belong to the current version of their enterprise x period
    (filings.md "Versions and resubmission"): the accepted (ACCEPTED or ACCEPTED_WITH_WARNINGS) submission
    with the highest version, as stg_intake__submissions marks it. Adds the submission's period. -#}
{% macro current_version_rows(filing_type) -%}
    select
        current_submissions.period,
        filing_rows.*
    from {{ source('raw', filing_type) }} as filing_rows
    inner join {{ ref('stg_intake__submissions') }} as current_submissions
        on filing_rows.submission_id = current_submissions.submission_id
    where current_submissions.is_current
{%- endmacro %}
