-- Findings of every attempt (capped per rule and submission; the true counts are in rule_results).

with

findings as (
    select * from {{ source('quality', 'findings') }}
)

select
    finding_id,
    submission_id,
    attempt,
    rule_id,
    stage,
    severity,
    filing_type,
    row_number,
    record_key,
    fields,
    message,
    shadow,
    found_at
from findings
