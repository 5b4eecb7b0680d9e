"""Quality rules (Q###, rules.md): plausibility of one submission against fixed thresholds (seed), warnings.

Q001 (FQ-005) Benford's law: the mean absolute deviation of the first significant digit's shares of the
positive amounts of the ok customer legs (bank legs repeat them) from log10(1 + 1/d), with at least
``min_amounts`` amounts. Thresholds: FQ-005's, at the submission's period end and enterprise type.
"""

from __future__ import annotations

from pipelines.quality.rules import SUBS, cur, fields, msg, sql_rule
from pipelines.quality.thresholds import threshold_sql


def _fq005(param: str, **kw) -> str:
    return threshold_sql("FQ-005", param, ent_type="ent_type", on="period_end", **kw)


@sql_rule("Q001", requires=("transactions",))
def q001() -> str:
    return f"""
with p as (
    select submission_id, {_fq005("min_amounts")} as n_min, {_fq005("max_mad")} as mad_max,
        {_fq005("max_mad", render=str)} as mad_max_text
    from {SUBS}
),
d as (
    select submission_id,
        ltrim(replace(cast(amount_cny as varchar), '.', ''), '0')[1]::int as digit
    from {cur("transactions")} where leg = 'customer' and status = 'ok' and amount_cny > 0
),
n as (
    select d.submission_id, count(*) as n from d join p using (submission_id)
    group by d.submission_id, p.n_min having count(*) >= p.n_min
),
counts as (
    select n.submission_id, n.n, g.digit, count(d.digit) as k
    from n cross join (select unnest(range(1, 10)) as digit) g
    left join d on d.submission_id = n.submission_id and d.digit = g.digit
    group by n.submission_id, n.n, g.digit
),
m as (
    select submission_id, any_value(n) as n, avg(abs(k / n - log10(1 + 1 / digit))) as mad
    from counts group by submission_id
),
x as (select m.*, p.mad_max, p.mad_max_text from m join p using (submission_id))
select submission_id, 'transactions' as filing_type, null::bigint as _row, null::varchar as record_key,
    {fields("amounts=n", "mad=round(mad, 4)")} as fields,
    {
        msg(
            "the first digits of ",
            "=n",
            " amounts deviate from Benford's law: mean absolute deviation ",
            "=round(mad, 4)",
            " > ",
            "=mad_max_text",
            " (nonconformity).",
        )
    } as message
from x where mad > mad_max"""
