"""Quality rules (Q###, rules.md): plausibility of one submission against fixed thresholds (seed), warnings.

Q001 (FQ-005) Benford's law: the mean absolute deviation of the first significant digit's shares of the
positive amounts of the ok customer legs (bank legs repeat them) from log10(1 + 1/d), with at least
``min_amounts`` amounts.
"""

from __future__ import annotations

from pipelines.quality.rule_stage import WarehouseRule, cur
from pipelines.quality.sql_rules import fields, msg
from pipelines.quality.thresholds import threshold


def q001() -> str:
    n_min = int(threshold("FQ-005", "min_amounts"))
    mad_max = threshold("FQ-005", "max_mad")
    return f"""
with d as (
    select submission_id,
        ltrim(replace(cast(amount_cny as varchar), '.', ''), '0')[1]::int as digit
    from {cur("transactions")} where leg = 'customer' and status = 'ok' and amount_cny > 0
),
n as (select submission_id, count(*) as n from d group by all having count(*) >= {n_min}),
counts as (
    select n.submission_id, n.n, g.digit, count(d.digit) as k
    from n cross join (select unnest(range(1, 10)) as digit) g
    left join d on d.submission_id = n.submission_id and d.digit = g.digit
    group by n.submission_id, n.n, g.digit
),
m as (
    select submission_id, any_value(n) as n, avg(abs(k / n - log10(1 + 1 / digit))) as mad
    from counts group by submission_id
)
select submission_id, 'transactions' as filing_type, null::bigint as _row, null::varchar as record_key,
    {fields("amounts=n", "mad=round(mad, 4)")} as fields,
    {
        msg(
            "the first digits of ",
            "=n",
            " amounts deviate from Benford's law: mean absolute deviation ",
            "=round(mad, 4)",
            f" > {mad_max} (nonconformity).",
        )
    } as message
from m where mad > {mad_max}"""


QUALITY_RULES: tuple[WarehouseRule, ...] = (WarehouseRule("Q001", ("transactions",), q001),)
