"""Macro rules (M###, rules.md): across submissions and periods, run by :mod:`pipelines.quality.runner`.

Each rule is a query over the context ``_rule_subs`` (see runner.CONTEXT_SQL) and the raw rows of the
checked submissions (``cur``) and of the previous period's current version (``prev``), registered with
:func:`pipelines.quality.rules.sql_rule` (M007 lives in :mod:`.incidents_vs_ledger`). Money is compared
exactly (decimals): the filings' own identities hold to the cent on clean data. Thresholds are resolved
per submission, at its period end and enterprise type (:func:`pipelines.quality.thresholds.threshold_sql`).
"""

from __future__ import annotations

import pipelines.quality.incidents_vs_ledger  # noqa: F401  (registers M007)
from pipelines.quality.rules import (
    ACCEPTED,
    BANK_CONFIRMED,
    CUSTOMER,
    SUBS,
    cur,
    fields,
    msg,
    prev,
    rk,
    sql_rule,
)
from pipelines.quality.thresholds import threshold_sql


def _at(indicator_id: str, param: str, **kw) -> str:
    """SQL: the threshold of each checked submission (a column of ``_rule_subs`` in scope)."""
    return threshold_sql(indicator_id, param, ent_type="s.ent_type", on="s.period_end", **kw)


ACCT = f"""acct as (
    select submission_id, account_id, account_class, parent_account_id, account_class {CUSTOMER} as is_customer
    from {cur("accounts")}
    qualify row_number() over (partition by submission_id, account_id order by _row) = 1
)"""

# net customer-leg flow into each customer account per day (ok legs; credit = in, debit = out)
CFLOW = f"""cflow as (
    select l.submission_id, l.account_id, l.day, sum(l.amt) as net
    from (
        select submission_id, value_date as day, credit_account_id as account_id, amount_cny as amt
        from {cur("transactions")} where leg = 'customer' and status = 'ok' and credit_account_id is not null
        union all
        select submission_id, value_date, debit_account_id, -amount_cny
        from {cur("transactions")} where leg = 'customer' and status = 'ok' and debit_account_id is not null
    ) l join acct a using (submission_id, account_id)
    where a.is_customer
    group by all
)"""

# the current versions of the checked submission's earlier periods (cur_sid = the checked one)
EARLIER = f"""earlier as (
    select s.submission_id as cur_sid, c.submission_id, c.period
    from {SUBS} s join intake.submissions c
      on c.enterprise_id = s.enterprise_id and c.period < s.period and c.status in {ACCEPTED}
)"""


@sql_rule("M001", needs_previous=True)
def m001() -> str:
    """X-01 against the previous period: an account's first opening = its last closing there."""
    return f"""
with f as (
    select submission_id, account_id, arg_min(_row, biz_date) as _row, min(biz_date) as biz_date,
        arg_min(opening, biz_date) as opening
    from {cur("account_balances")} group by all
),
p as (
    select cur_sid as submission_id, account_id, arg_max(closing, biz_date) as prev_closing,
        max(biz_date) as prev_date
    from {prev("account_balances")} group by all
)
select f.submission_id, 'account_balances' as filing_type, f._row,
    f.account_id || '|' || strftime(f.biz_date, '%Y-%m-%d') as record_key,
    {fields("opening=f.opening", "previous_closing=p.prev_closing", "previous_date=p.prev_date")} as fields,
    {
        msg(
            "opening ",
            "=f.opening",
            " of ",
            "=f.account_id",
            " on ",
            "=f.biz_date",
            " is not its closing ",
            "=p.prev_closing",
            " of ",
            "=p.prev_date",
            " in the previous period's current version.",
        )
    } as message
from f join p using (submission_id, account_id)
where f.opening <> p.prev_closing"""


@sql_rule("M002", requires=("loans", "transactions"), needs_previous=True)
def m002() -> str:
    """X-05: loan roll-forward from the previous period (or the contract principal when originated)."""
    return f"""
with rep as (
    select submission_id, loan_id,
        sum(case when reverses_txn_id is null then principal_part else -principal_part end) as repaid
    from {cur("transactions")}
    where leg = 'customer' and purpose = 'repayment' and status = 'ok' and loan_id is not null
    group by all
),
x as (
    select l.*, s.period_start, p.outstanding_principal as prev_outstanding, p.status as prev_status,
        coalesce(p.outstanding_principal, l.contract_principal) as base, coalesce(r.repaid, 0) as repaid
    from {cur("loans")} l join {SUBS} s using (submission_id)
    left join {prev("loans")} p on p.cur_sid = l.submission_id and p.loan_id = l.loan_id
    left join rep r on r.submission_id = l.submission_id and r.loan_id = l.loan_id
)
select submission_id, 'loans' as filing_type, _row, {rk("loans")} as record_key,
    {
        fields(
            "outstanding_principal",
            "previous_outstanding=prev_outstanding",
            "contract_principal",
            "principal_repaid=repaid",
            "written_off_in_period",
        )
    } as fields,
    {
        msg(
            "outstanding_principal ",
            "=outstanding_principal",
            " of loan ",
            "=loan_id",
            " is not ",
            "=base",
            " - repaid principal ",
            "=repaid",
            " - written off ",
            "=written_off_in_period",
            " = ",
            "=base - repaid - written_off_in_period",
            ".",
        )
    } as message
from x
where coalesce(prev_status, '') <> 'written_off'
  and (prev_outstanding is not null or origination_date >= period_start)
  and outstanding_principal <> base - repaid - written_off_in_period"""


@sql_rule("M003", requires=("account_balances", "accounts"))
def m003() -> str:
    """X-03: bank-confirmed closing equals the closing."""
    return f"""
with {ACCT}
select b.submission_id, 'account_balances' as filing_type, b._row, {
        rk("account_balances", "b")
    } as record_key,
    {fields("closing", "bank_confirmed_closing", "account_class=a.account_class", alias="b")} as fields,
    {
        msg(
            "the bank confirms ",
            "=b.bank_confirmed_closing",
            " for ",
            "=a.account_class",
            " account ",
            "=b.account_id",
            " on ",
            "=b.biz_date",
            ", the filed closing is ",
            "=b.closing",
            ".",
        )
    } as message
from {cur("account_balances")} b join acct a using (submission_id, account_id)
where a.account_class in {BANK_CONFIRMED} and b.bank_confirmed_closing <> b.closing"""


@sql_rule("M004", requires=("account_balances", "accounts", "transactions"), ent_types=("P2P", "CF", "WM"))
def m004() -> str:
    """X-04, first clause: each day the derived total of the CUSTOMER_SUB accounts under a CUSTODY_SUMMARY
    (their openings plus the customer legs up to that day) equals its closing."""
    return f"""
with {ACCT}, {CFLOW},
subs_open as (
    select a.submission_id, a.parent_account_id as account_id, sum(b.opening) as opening
    from {cur("account_balances")} b join acct a using (submission_id, account_id)
    where a.account_class = 'CUSTOMER_SUB' group by all
),
subs_flow as (
    select a.submission_id, a.parent_account_id as account_id, f.day, sum(f.net) as net
    from cflow f join acct a using (submission_id, account_id)
    where a.account_class = 'CUSTOMER_SUB' group by all
),
x as (
    select b.submission_id, b._row, b.account_id, b.biz_date, b.closing,
        coalesce(o.opening, 0) + coalesce((
            select sum(f.net) from subs_flow f
            where f.submission_id = b.submission_id and f.account_id = b.account_id and f.day <= b.biz_date
        ), 0) as derived
    from {cur("account_balances")} b join acct a using (submission_id, account_id)
    left join subs_open o using (submission_id, account_id)
    where a.account_class = 'CUSTODY_SUMMARY'
)
select submission_id, 'account_balances' as filing_type, _row,
    account_id || '|' || strftime(biz_date, '%Y-%m-%d') as record_key,
    {fields("closing", "derived_sub_total=derived")} as fields,
    {
        msg(
            "custody summary ",
            "=account_id",
            " closes at ",
            "=closing",
            " on ",
            "=biz_date",
            " but its customer sub-accounts total ",
            "=derived",
            " (their openings plus the day's customer legs).",
        )
    } as message
from x where closing <> derived"""


@sql_rule("M005", needs_previous=True)
def m005() -> str:
    """X-08 for references to earlier periods: reversed and reported transactions not in the submission
    must be in a current version of an earlier period of the enterprise."""
    return f"""
with refs as (
    select submission_id, 'transactions' as filing_type, _row, {rk("transactions")} as record_key,
        'reverses_txn_id' as field, reverses_txn_id as ref
    from {cur("transactions")} where reverses_txn_id is not null
    union all
    select submission_id, 'aml_reports', _row, {rk("aml_reports")}, 'txn_id', txn_id
    from {cur("aml_reports")} where txn_id is not null
),
{EARLIER},
outside as (
    select r.* from refs r
    where not exists (select 1 from raw.transactions t where t.submission_id = r.submission_id and t.txn_id = r.ref)
)
select o.submission_id, o.filing_type, o._row, o.record_key,
    [{{'field': o.field, 'value': o.ref}}] as fields,
    {
        msg(
            "=o.field",
            " '",
            "=o.ref",
            "' names a transaction that is neither in this submission nor in an accepted earlier period.",
        )
    } as message
from outside o
where not exists (
    select 1 from earlier e join raw.transactions t on t.submission_id = e.submission_id
    where e.cur_sid = o.submission_id and t.txn_id = o.ref)"""


@sql_rule("M006", requires=("liquidity", "account_balances", "accounts", "transactions"))
def m006() -> str:
    """X-12: stable + less-stable customer balances = the derived customer account total of the day."""
    return f"""
with {ACCT}, {CFLOW},
opening as (
    select b.submission_id, sum(b.opening) as opening
    from {cur("account_balances")} b join acct a using (submission_id, account_id)
    where a.is_customer group by all
),
daily as (select submission_id, day, sum(net) as net from cflow group by all),
x as (
    select l.submission_id, l._row, l.as_of_date, l.customer_bal_stable, l.customer_bal_less_stable,
        l.customer_bal_stable + l.customer_bal_less_stable as filed,
        coalesce(o.opening, 0) + coalesce((
            select sum(d.net) from daily d where d.submission_id = l.submission_id and d.day <= l.as_of_date
        ), 0) as derived
    from {cur("liquidity")} l left join opening o using (submission_id)
)
select submission_id, 'liquidity' as filing_type, _row, strftime(as_of_date, '%Y-%m-%d') as record_key,
    {fields("customer_bal_stable", "customer_bal_less_stable", "derived_customer_total=derived")} as fields,
    {
        msg(
            "customer_bal_stable + customer_bal_less_stable = ",
            "=filed",
            " on ",
            "=as_of_date",
            ", the customer accounts total ",
            "=derived",
            ".",
        )
    } as message
from x where filed <> derived"""


# every control total a submission declared: (submission_id, filing_type, total, value)
TOTALS = """totals as (
    select submission_id, filing_type, total, json_extract_string(j, total)::decimal(38, 2) as value
    from (select submission_id, filing_type, control_totals as j, unnest(json_keys(control_totals)) as total
          from intake.files where control_totals is not null)
)"""


@sql_rule("M008", requires=("enterprise_profile",), applies_when="x.prior_sid is not null")
def m008() -> str:
    """X-16: a resubmission moving a control total by more than max_control_total_change against the
    version that was current when it was received."""
    limit = "max_control_total_change"
    return f"""
with {TOTALS},
x as (
    select n.submission_id, n.filing_type, n.total, o.value as old, n.value as new,
        abs(n.value - o.value) / greatest(abs(o.value), 1.00) as change,
        {_at("FQ-002", limit)} as limit_,
        {_at("FQ-002", limit, render=lambda v: f"{100 * v:g}")} as limit_pct
    from {SUBS} s join totals n on n.submission_id = s.submission_id
    join totals o on o.submission_id = s.prior_sid and o.filing_type = n.filing_type and o.total = n.total
)
select submission_id, filing_type, null::bigint as _row, filing_type || '.' || total as record_key,
    {fields("total", "old", "new", "change=round(change, 6)")} as fields,
    {
        msg(
            "control total ",
            "=filing_type",
            ".",
            "=total",
            " moved from ",
            "=old",
            " to ",
            "=new",
            " (",
            "=round(100 * change, 2)",
            "%, more than ",
            "=limit_pct",
            "%) against the version current when this one was received.",
        )
    } as message
from x where change > limit_"""


@sql_rule("M009", requires=("enterprise_profile",), needs_history=True)
def m009() -> str:
    """Sudden jump (FQ-006): a control total's robust z against the enterprise's last periods."""
    return f"""
with {TOTALS},
p as (
    select s.submission_id, {_at("FQ-006", "history_robust_z")} as z_max,
        {_at("FQ-006", "history_robust_z", render=lambda v: f"{v:g}")} as z_max_text,
        {_at("FQ-006", "min_size")} as min_size, {_at("FQ-006", "mad_floor_share")} as floor_share,
        {_at("FQ-006", "min_rel_change")} as min_rel, cast({
        _at("FQ-006", "max_history")
    } as integer) as max_history
    from {SUBS} s
),
hist as (
    select s.submission_id as cur_sid, t.filing_type, t.total, t.value::double as x
    from {SUBS} s join p using (submission_id) join intake.submissions c
      on c.enterprise_id = s.enterprise_id and c.status in {ACCEPTED} and c.period < s.period
     and c.period >= strftime(s.period_start - to_months(p.max_history), '%Y-%m')
    join totals t on t.submission_id = c.submission_id
),
med as (select cur_sid, filing_type, total, median(x) as med from hist group by all),
mad as (
    select h.cur_sid, h.filing_type, h.total, m.med, median(abs(h.x - m.med)) as mad
    from hist h join med m using (cur_sid, filing_type, total) group by all
),
x as (
    select t.submission_id, t.filing_type, t.total, t.value::double as x, m.med,
        greatest(m.mad, p.floor_share * greatest(abs(m.med), p.min_size)) as mad_f,
        p.min_size, p.z_max, p.z_max_text, p.min_rel
    from {SUBS} s join p using (submission_id) join totals t using (submission_id)
    join mad m on m.cur_sid = t.submission_id and m.filing_type = t.filing_type and m.total = t.total
),
z as (
    select *, abs(x - med) / (1.4826 * mad_f) as z, abs(x - med) / greatest(abs(med), min_size) as rel
    from x
)
select submission_id, filing_type, null::bigint as _row, filing_type || '.' || total as record_key,
    {fields("total", "value=x", "history_median=round(med, 2)", "robust_z=round(z, 2)")} as fields,
    {
        msg(
            "control total ",
            "=filing_type",
            ".",
            "=total",
            " = ",
            "=round(x, 2)",
            " against a median of ",
            "=round(med, 2)",
            " over the enterprise's last periods: robust z ",
            "=round(z, 1)",
            " > ",
            "=z_max_text",
            ".",
        )
    } as message
from z where z > z_max and rel > min_rel"""
