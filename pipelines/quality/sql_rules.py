"""Validity rules written in SQL (V020-V045, rules.md): cross-column and cross-file checks of one submission,
set work in DuckDB over its raw rows. Each is registered with :func:`pipelines.quality.rules.sql_rule` (its
catalog entry is in ``catalog/validity.yml``) and run by :mod:`pipelines.quality.runner` over the context
table ``_rule_subs`` (submission_id, enterprise_id, ent_type, period_start, period_end, ...). The column
checks V001-V016 are generated from the contracts as Great Expectations suites (:mod:`.suites`).
"""

from __future__ import annotations

from pipelines.quality.rules import BANK_CONFIRMED, CUSTOMER, SUBS, fields, msg, rk, sql_rule, src
from pipelines.quality.uscc import sql_is_valid

ACCT = f"""acct as (
    select a.*, a.account_class {CUSTOMER} as is_customer, s.period_start, s.period_end, s.ent_type
    from {src("accounts")} a join {SUBS} s using (submission_id)
    qualify row_number() over (partition by a.submission_id, a.account_id order by a._row) = 1
)"""


def _reference(rule_id: str, child: str, col: str, parent: str, pcol: str, what: str) -> str:
    return f"""
    select c.submission_id, '{child}' as filing_type, c._row, {rk(child, "c")} as record_key,
        {fields(col, alias="c")} as fields,
        {msg(f"{col} '", f"=c.{col}", f"' names no {what} in the {parent} file of this submission.")} as message
    from {src(child)} c
    where c.{col} is not null and not exists (
        select 1 from raw.{parent} p where p.submission_id = c.submission_id and p.{pcol} = c.{col})"""


def _union(*queries: str) -> str:
    return "\nunion all\n".join(queries)


# --------------------------------------------------------------------------------------------------
# enterprise_profile

V020 = f"""
with n as (select submission_id, count(*) as n from {src("enterprise_profile")} group by submission_id)
select s.submission_id, 'enterprise_profile' as filing_type, null::bigint as _row, null::varchar as record_key,
    {fields("rows=coalesce(n.n, 0)")} as fields,
    {msg("enterprise_profile has ", "=coalesce(n.n, 0)", " rows; it must have exactly one row.")} as message
from {SUBS} s left join n using (submission_id)
where coalesce(n.n, 0) <> 1"""

V021 = f"""
select submission_id, 'enterprise_profile' as filing_type, _row, {rk("enterprise_profile")} as record_key,
    {fields("ent_type", "enterprise_id")} as fields,
    {msg("ent_type '", "=ent_type", "' does not match the type code of enterprise_id '", "=enterprise_id", "'.")} as message
from {src("enterprise_profile")}
where ent_type is not null and enterprise_id is not null
  and ent_type <> left(enterprise_id, length(enterprise_id) - 4)"""

V022 = f"""
select submission_id, 'enterprise_profile' as filing_type, _row, {rk("enterprise_profile")} as record_key,
    {fields("uscc")} as fields,
    {
    msg(
        "uscc '",
        "=uscc",
        "' is not a valid Unified Social Credit Code (18 characters from 0-9A-HJ-NPQRTUWXY "
        "with the GB 32100-2015 check character last).",
    )
} as message
from {src("enterprise_profile")}
where uscc is not null and not {sql_is_valid("uscc")}"""

# --------------------------------------------------------------------------------------------------
# account_balances: X-01 inside the submission, expected rows

BAL = f"""bal as (
    select b.*, a.account_class, a.is_customer, a.open_date, a.close_date, a.period_start, a.period_end
    from {src("account_balances")} b join acct a using (submission_id, account_id)
)"""

V023 = f"""
select submission_id, 'account_balances' as filing_type, _row, {rk("account_balances")} as record_key,
    {fields("opening", "credits", "debits", "closing")} as fields,
    {
    msg(
        "closing ",
        "=closing",
        " is not opening ",
        "=opening",
        " + credits ",
        "=credits",
        " - debits ",
        "=debits",
        " = ",
        "=opening + credits - debits",
        ".",
    )
} as message
from {src("account_balances")}
where closing <> opening + credits - debits"""

V024 = f"""
with {ACCT}, {BAL},
l as (
    select *, lag(closing) over w as prev_closing, lag(biz_date) over w as prev_date
    from bal where not is_customer
    window w as (partition by submission_id, account_id order by biz_date, _row)
)
select submission_id, 'account_balances' as filing_type, _row, {rk("account_balances")} as record_key,
    {fields("opening", "previous_closing=prev_closing")} as fields,
    {
    msg(
        "opening ",
        "=opening",
        " of ",
        "=account_id",
        " on ",
        "=biz_date",
        " is not the closing ",
        "=prev_closing",
        " of the previous day.",
    )
} as message
from l
where prev_date = biz_date - 1 and opening <> prev_closing"""

V025 = f"""
with {ACCT}, {BAL},
f as (
    select * from bal where open_date >= period_start
    qualify row_number() over (partition by submission_id, account_id order by biz_date, _row) = 1
)
select submission_id, 'account_balances' as filing_type, _row, {rk("account_balances")} as record_key,
    {fields("opening", "open_date")} as fields,
    {
    msg(
        "account ",
        "=account_id",
        " opened in the period on ",
        "=open_date",
        " so its first opening must be 0, not ",
        "=opening",
        ".",
    )
} as message
from f
where opening <> 0"""

V026 = f"""
with {ACCT}, {BAL},
tx as (
    select submission_id, leg, value_date, debit_account_id, credit_account_id, amount_cny
    from {src("transactions")} where status = 'ok'
),
legs as (
    select submission_id, leg, value_date, credit_account_id as account_id, amount_cny as cr, 0::decimal(20,2) as dr
    from tx where credit_account_id is not null
    union all
    select submission_id, leg, value_date, debit_account_id, 0::decimal(20,2), amount_cny
    from tx where debit_account_id is not null
),
own as (
    select submission_id, account_id, value_date, sum(cr) as cr, sum(dr) as dr
    from legs where leg = 'bank' group by all
),
cust as (
    -- every customer leg of the submission: a leg dated outside the period is V014's finding, not this one's
    select submission_id, account_id, sum(cr) as cr, sum(dr) as dr
    from legs where leg = 'customer' group by all
),
x as (
    select b.*, coalesce(o.cr, 0) as exp_cr, coalesce(o.dr, 0) as exp_dr, 'bank legs of that day' as basis
    from bal b left join own o
      on o.submission_id = b.submission_id and o.account_id = b.account_id and o.value_date = b.biz_date
    where not b.is_customer
    union all
    select b.*, coalesce(c.cr, 0), coalesce(c.dr, 0), 'customer legs of the period'
    from bal b left join cust c on c.submission_id = b.submission_id and c.account_id = b.account_id
    where b.is_customer
)
select submission_id, 'account_balances' as filing_type, _row, {rk("account_balances")} as record_key,
    {fields("credits", "debits", "ledger_credits=exp_cr", "ledger_debits=exp_dr")} as fields,
    {
    msg(
        "credits ",
        "=credits",
        " / debits ",
        "=debits",
        " of ",
        "=account_id",
        " differ from the ok ",
        "=basis",
        " in transactions: credits ",
        "=exp_cr",
        " / debits ",
        "=exp_dr",
        ".",
    )
} as message
from x
where credits <> exp_cr or debits <> exp_dr"""

EXPECTED_DAY = "least(coalesce(close_date, period_end), period_end)"

V027 = f"""
with {ACCT},
expected as (
    select submission_id, account_id, account_class,
        unnest(generate_series(greatest(open_date, period_start), {
    EXPECTED_DAY
}, interval 1 day))::date as biz_date
    from acct where not is_customer and open_date is not null
    union all
    select submission_id, account_id, account_class, {EXPECTED_DAY} as biz_date
    from acct
    where is_customer and open_date is not null and open_date <= period_end
      and (close_date is null or close_date >= period_start)
)
select e.submission_id, 'account_balances' as filing_type, null::bigint as _row,
    e.account_id || '|' || strftime(e.biz_date, '%Y-%m-%d') as record_key,
    {fields("account_id", "biz_date", "account_class", alias="e")} as fields,
    {
    msg(
        "no balance row for ",
        "=e.account_class",
        " account ",
        "=e.account_id",
        " on ",
        "=e.biz_date",
        ": file one row per own account per day (open to close) and one row per customer account, "
        "dated the period's last day or its close_date.",
    )
} as message
from expected e
where not exists (
    select 1 from raw.account_balances b
    where b.submission_id = e.submission_id and b.account_id = e.account_id and b.biz_date = e.biz_date)"""

V028 = f"""
with {ACCT}, {BAL}
select submission_id, 'account_balances' as filing_type, _row, {rk("account_balances")} as record_key,
    {fields("biz_date", "account_class", "open_date", "close_date")} as fields,
    case when is_customer then {
    msg(
        "customer account ",
        "=account_id",
        " must have its one row dated ",
        f"={EXPECTED_DAY}",
        ", not ",
        "=biz_date",
        ".",
    )
}
         else {
    msg("own account ", "=account_id", " has a row on ", "=biz_date", " outside its open days in the period.")
} end as message
from bal
where (not is_customer and (biz_date < greatest(open_date, period_start) or biz_date > {EXPECTED_DAY}))
   or (is_customer and biz_date <> {EXPECTED_DAY})"""

V029 = f"""
with {ACCT}, {BAL}
select submission_id, 'account_balances' as filing_type, _row, {rk("account_balances")} as record_key,
    {fields("opening", "closing", "account_class")} as fields,
    {
    msg(
        "a ",
        "=account_class",
        " account cannot have a negative balance (opening ",
        "=opening",
        ", closing ",
        "=closing",
        "); only SETTLEMENT accounts may go below 0.",
    )
} as message
from bal
where account_class <> 'SETTLEMENT' and (opening < 0 or closing < 0)"""

V030 = f"""
with {ACCT}, {BAL}
select submission_id, 'account_balances' as filing_type, _row, {rk("account_balances")} as record_key,
    {fields("bank_confirmed_closing", "account_class")} as fields,
    {msg("bank_confirmed_closing is required for ", "=account_class", " accounts.")} as message
from bal
where account_class in {BANK_CONFIRMED} and bank_confirmed_closing is null"""

V031 = f"""
with {ACCT}, {BAL}
select submission_id, 'account_balances' as filing_type, _row, {rk("account_balances")} as record_key,
    {fields("bank_confirmed_closing", "account_class")} as fields,
    {msg("bank_confirmed_closing must be empty for customer (", "=account_class", ") accounts.")} as message
from bal
where is_customer and bank_confirmed_closing is not null"""

# --------------------------------------------------------------------------------------------------
# X-08 references and account classes

V032 = _union(
    _reference("V032", "accounts", "owner_party_id", "parties", "party_id", "party"),
    _reference("V032", "transactions", "payer_party_id", "parties", "party_id", "party"),
    _reference("V032", "transactions", "payee_party_id", "parties", "party_id", "party"),
    _reference("V032", "loans", "borrower_party_id", "parties", "party_id", "party"),
    _reference("V032", "investments", "investor_party_id", "parties", "party_id", "party"),
    _reference("V032", "aml_reports", "party_id", "parties", "party_id", "party"),
)

V033 = _union(
    _reference("V033", "accounts", "parent_account_id", "accounts", "account_id", "account"),
    _reference("V033", "account_balances", "account_id", "accounts", "account_id", "account"),
    _reference("V033", "transactions", "debit_account_id", "accounts", "account_id", "account"),
    _reference("V033", "transactions", "credit_account_id", "accounts", "account_id", "account"),
)

V034 = _reference("V034", "investments", "loan_id", "loans", "loan_id", "loan")

V035 = f"""
with {ACCT}
select c.submission_id, 'accounts' as filing_type, c._row, {rk("accounts", "c")} as record_key,
    {fields("parent_account_id", "parent_class=p.account_class", alias="c")} as fields,
    {
    msg(
        "parent_account_id '",
        "=c.parent_account_id",
        "' is a ",
        "=p.account_class",
        " account; a CUSTOMER_SUB's parent must be the CUSTODY_SUMMARY account.",
    )
} as message
from {
    src("accounts")
} c join acct p on p.submission_id = c.submission_id and p.account_id = c.parent_account_id
where c.account_class = 'CUSTOMER_SUB' and p.account_class <> 'CUSTODY_SUMMARY'"""

V036 = f"""
select s.submission_id, 'accounts' as filing_type, null::bigint as _row, null::varchar as record_key,
    {fields("ent_type=s.ent_type")} as fields,
    'a payment institution must file its RESERVE_CENTRAL / RESERVE_BANK accounts; none was found.' as message
from {SUBS} s
where s.ent_type = 'PAY' and not exists (
    select 1 from raw.accounts a
    where a.submission_id = s.submission_id and a.account_class in ('RESERVE_CENTRAL', 'RESERVE_BANK'))"""

V037 = f"""
with prof as (
    select submission_id, any_value(custodian_bank_code order by _row) as custodian_bank_code
    from {src("enterprise_profile")} group by submission_id
),
cs as (select * from {src("accounts")} where account_class = 'CUSTODY_SUMMARY'),
n as (select submission_id, count(*) as n from cs group by submission_id)
select s.submission_id, 'accounts' as filing_type, null::bigint as _row, null::varchar as record_key,
    {fields("custody_summary_accounts=coalesce(n.n, 0)")} as fields,
    {
    msg(
        "found ",
        "=coalesce(n.n, 0)",
        " CUSTODY_SUMMARY accounts; a ",
        "=s.ent_type",
        " platform must file exactly one, at its custodian bank.",
    )
} as message
from {SUBS} s left join n using (submission_id)
where s.ent_type in ('P2P', 'CF', 'WM') and coalesce(n.n, 0) <> 1
union all
select cs.submission_id, 'accounts', cs._row, {rk("accounts", "cs")},
    {fields("bank_code", "custodian_bank_code=p.custodian_bank_code", alias="cs")},
    {
    msg(
        "CUSTODY_SUMMARY account ",
        "=cs.account_id",
        " is at bank ",
        "=cs.bank_code",
        ", not at the custodian bank ",
        "=p.custodian_bank_code",
        " named in enterprise_profile.",
    )
}
from cs join {SUBS} s using (submission_id) join prof p using (submission_id)
where s.ent_type in ('P2P', 'CF', 'WM') and p.custodian_bank_code is not null
  and cs.bank_code is distinct from p.custodian_bank_code"""

V038 = f"""
select a.submission_id, 'accounts' as filing_type, a._row, {rk("accounts", "a")} as record_key,
    {fields("account_class", "ent_type=s.ent_type", alias="a")} as fields,
    {
    msg(
        "account class ",
        "=a.account_class",
        " does not belong to a ",
        "=s.ent_type",
        " filer: payment institutions use RESERVE_* and CUSTOMER_WALLET, platforms use CUSTODY_SUMMARY "
        "and CUSTOMER_SUB.",
    )
} as message
from {src("accounts")} a join {SUBS} s using (submission_id)
where (s.ent_type = 'PAY' and a.account_class in ('CUSTODY_SUMMARY', 'CUSTOMER_SUB'))
   or (s.ent_type in ('P2P', 'CF', 'WM') and a.account_class in ('RESERVE_CENTRAL', 'RESERVE_BANK', 'CUSTOMER_WALLET'))"""

# --------------------------------------------------------------------------------------------------
# complaints, transactions, loans

V039 = f"""
select submission_id, 'complaints' as filing_type, _row, {rk("complaints")} as record_key,
    {fields("received_at", "closed_at")} as fields,
    {msg("closed_at ", "=closed_at", " is before received_at ", "=received_at", ".")} as message
from {src("complaints")}
where closed_at < received_at"""

_V040_SIDE = """
    select t.submission_id, 'transactions' as filing_type, t._row, {rk} as record_key,
        {fields} as fields,
        {msg} as message
    from {tx} t join acct a on a.submission_id = t.submission_id and a.account_id = t.{side}
    where t.value_date < a.open_date or t.value_date > a.close_date"""

V040 = f"with {ACCT}\n" + _union(
    *[
        _V040_SIDE.format(
            rk=rk("transactions", "t"),
            tx=src("transactions"),
            side=side,
            fields=fields(
                "value_date",
                f"{side}=a.account_id",
                "open_date=a.open_date",
                "close_date=a.close_date",
                alias="t",
            ),
            msg=msg(
                "value_date ",
                "=t.value_date",
                f" is outside the open days of {side} ",
                "=a.account_id",
                " (",
                "=a.open_date",
                " to ",
                "=coalesce(cast(a.close_date as varchar), 'open')",
                ").",
            ),
        )
        for side in ("debit_account_id", "credit_account_id")
    ]
)

V041 = f"""
select submission_id, 'transactions' as filing_type, _row, {rk("transactions")} as record_key,
    {fields("debit_account_id", "credit_account_id")} as fields,
    'a transaction leg must name at least one account (debit_account_id or credit_account_id).' as message
from {src("transactions")}
where debit_account_id is null and credit_account_id is null"""

V042 = f"""
select submission_id, 'transactions' as filing_type, _row, {rk("transactions")} as record_key,
    {fields("amount_cny", "principal_part", "interest_part", "fee_part")} as fields,
    {
    msg(
        "principal_part ",
        "=principal_part",
        " + interest_part ",
        "=interest_part",
        " + fee_part ",
        "=fee_part",
        " = ",
        "=principal_part + interest_part + fee_part",
        " is not amount_cny ",
        "=amount_cny",
        ".",
    )
} as message
from {src("transactions")}
where leg = 'customer' and purpose = 'repayment'
  and principal_part + interest_part + fee_part <> amount_cny"""

V043 = f"""
with l as (
    select l.* from {src("loans")} l join {SUBS} s using (submission_id)
    where l.origination_date between s.period_start and s.period_end
),
d as (
    select submission_id, loan_id,
        sum(case when reverses_txn_id is null then amount_cny else -amount_cny end) as net
    from {src("transactions")}
    where leg = 'customer' and purpose = 'loan_disbursement' and status = 'ok' and loan_id is not null
    group by all
)
select l.submission_id, 'loans' as filing_type, l._row, {rk("loans", "l")} as record_key,
    {fields("disbursed_amount", "disbursement_legs_total=coalesce(d.net, 0)", alias="l")} as fields,
    {
    msg(
        "loan ",
        "=l.loan_id",
        " originated in the period with disbursed_amount ",
        "=l.disbursed_amount",
        ", but its ok loan_disbursement customer legs total ",
        "=coalesce(d.net, 0)",
        " (net of reversals).",
    )
} as message
from l left join d on d.submission_id = l.submission_id and d.loan_id = l.loan_id
where coalesce(d.net, 0) <> l.disbursed_amount"""

V044 = f"""
with p as (
    select submission_id, loan_id, sum(principal) as total
    from {src("investments")}
    where product_type in ('p2p_loan', 'cf_debt') and loan_id is not null
    group by all
)
select l.submission_id, 'loans' as filing_type, l._row, {rk("loans", "l")} as record_key,
    {fields("outstanding_principal", "positions_total=coalesce(p.total, 0)", alias="l")} as fields,
    {
    msg(
        "loan ",
        "=l.loan_id",
        " (",
        "=l.status",
        ") has outstanding_principal ",
        "=l.outstanding_principal",
        " but the investors' p2p_loan / cf_debt positions on it total ",
        "=coalesce(p.total, 0)",
        ".",
    )
} as message
from {src("loans")} l left join p on p.submission_id = l.submission_id and p.loan_id = l.loan_id
where l.status in ('current', 'overdue') and coalesce(p.total, 0) <> l.outstanding_principal"""

V045 = f"""
select submission_id, 'loans' as filing_type, _row, {rk("loans")} as record_key,
    {fields("disbursed_amount", "contract_principal")} as fields,
    {
    msg(
        "disbursed_amount ",
        "=disbursed_amount",
        " is more than contract_principal ",
        "=contract_principal",
        ".",
    )
} as message
from {src("loans")}
where disbursed_amount > contract_principal"""


sql_rule("V020", V020)
sql_rule("V021", V021)
sql_rule("V022", V022)
sql_rule("V023", V023)
sql_rule("V024", V024, requires=("account_balances", "accounts"))
sql_rule("V025", V025, requires=("account_balances", "accounts"))
sql_rule("V026", V026, requires=("account_balances", "accounts", "transactions"))
sql_rule("V027", V027, requires=("account_balances", "accounts"))
sql_rule("V028", V028, requires=("account_balances", "accounts"))
sql_rule("V029", V029, requires=("account_balances", "accounts"))
sql_rule("V030", V030, requires=("account_balances", "accounts"))
sql_rule("V031", V031, requires=("account_balances", "accounts"))
# aml_reports.txn_id and transactions.reverses_txn_id may name earlier periods: checked against the
# warehouse by the macro stage (M005), not here.
sql_rule("V032", V032, requires=("parties",))
sql_rule("V033", V033, requires=("accounts",))
sql_rule("V034", V034, requires=("investments", "loans"))
sql_rule("V035", V035)
sql_rule("V036", V036, ent_types=("PAY",))
sql_rule("V037", V037, requires=("accounts", "enterprise_profile"), ent_types=("P2P", "CF", "WM"))
sql_rule("V038", V038)
sql_rule("V039", V039)
sql_rule("V040", V040, requires=("transactions", "accounts"))
sql_rule("V041", V041)
sql_rule("V042", V042)
sql_rule("V043", V043, requires=("loans", "transactions"))
sql_rule("V044", V044, requires=("loans", "investments"))
sql_rule("V045", V045)
