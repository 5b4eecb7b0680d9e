"""Recompute, from the written packages alone, the identities the clean data must satisfy (rules.md X-rules
and the indicators' hard limits). Used by the tests; handy after changing the generator:

    .venv/bin/python -m pipelines.synth.selfcheck <landing>
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import sys
from decimal import Decimal
from pathlib import Path

import duckdb

from pipelines.contracts import load_contracts


def packages(landing: Path) -> list[Path]:
    return sorted(p.parent for p in Path(landing).glob("*/*/manifest.json"))


def load(landing: Path, *, current_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Every package's files as typed tables named after the filing type (plus submission_id), and a
    `submissions` table. With current_only, only the highest version of each enterprise-period."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'Asia/Shanghai'")
    con.execute("set enable_progress_bar = false")
    rows = []
    for folder in packages(landing):
        m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        rows.append(
            (
                m["submission_id"],
                m["enterprise_id"],
                m["period"],
                m["version"],
                m["supersedes"],
                os.stat(folder / "manifest.json").st_mtime,
                str(folder),
            )
        )
    con.execute(
        "create table submissions (submission_id varchar, enterprise_id varchar, period varchar, "
        "version int, supersedes varchar, mtime double, folder varchar)"
    )
    if rows:
        con.executemany("insert into submissions values (?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute("""create view current_submissions as select * from submissions s where version =
                   (select max(version) from submissions t where t.enterprise_id = s.enterprise_id
                    and t.period = s.period)""")
    chosen = con.sql(
        "select submission_id, folder from " + ("current_submissions" if current_only else "submissions")
    ).fetchall()
    for ft, c in load_contracts().items():
        cols = ", ".join(
            f"try_cast(nullif({col.name}, '') as {col.duckdb_type}) as {col.name}" for col in c.columns
        )
        selects = []
        for sid, folder in chosen:
            m = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
            entry = next((f for f in m["files"] if f["filing_type"] == ft), None)
            if entry is None:
                continue
            path = str(Path(folder) / entry["path"])
            selects.append(
                f"select '{sid}' as submission_id, {cols} from read_csv('{path}', header = true, "
                f"all_varchar = true, auto_detect = false, columns = "
                + "{"
                + ", ".join(f"'{col.name}': 'VARCHAR'" for col in c.columns)
                + "})"
            )
        if selects:
            con.execute(f"create table {ft} as " + " union all ".join(selects))
        else:
            con.execute(
                f"create table {ft} as select ''::varchar as submission_id, "
                + ", ".join(f"null::{col.duckdb_type} as {col.name}" for col in c.columns)
                + " limit 0"
            )
    return con


def manifest_problems(folder: Path) -> list[str]:
    """X-11 against the bytes as written (checksums, row counts, control totals)."""
    out = []
    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    contracts = load_contracts()
    for f in m["files"]:
        data = (folder / f["path"]).read_bytes()
        if hashlib.sha256(data).hexdigest() != f["sha256"]:
            out.append(f"{folder.name}/{f['path']}: sha256")
        text = (gzip.decompress(data) if f["compression"] == "gzip" else data).decode("utf-8")
        lines = text.split("\n")
        if lines[-1] == "":
            lines = lines[:-1]
        header = lines[0].split(",")
        if header != contracts[f["filing_type"]].column_names:
            out.append(f"{folder.name}/{f['path']}: header")
        if len(lines) - 1 != f["row_count"]:
            out.append(f"{folder.name}/{f['path']}: row_count {len(lines) - 1} != {f['row_count']}")
        for col, total in f.get("control_totals", {}).items():
            import csv
            import io

            rdr = csv.DictReader(io.StringIO(text))
            s = sum((Decimal(r[col]) for r in rdr if r[col]), Decimal("0.00"))
            if s != Decimal(total):
                out.append(f"{folder.name}/{f['path']}: control total {col} {s} != {total}")
    return out


# Each check: SQL returning offending rows (none on clean data).
CHECKS: dict[str, str] = {
    "X-01 arithmetic": "select * from account_balances where closing <> opening + credits - debits",
    "X-01 daily continuity": """
        select * from (select account_id, submission_id, biz_date, opening,
               lag(closing) over (partition by submission_id, account_id order by biz_date) as prev
               from account_balances) where prev is not null and opening <> prev""",
    "X-01 credits/debits vs legs": """
        with a as (select b.*, c.account_class from account_balances b join accounts c using (submission_id,
                   account_id)),
        legs as (select submission_id, leg, value_date, debit_account_id as acct, -amount_cny as amt from transactions
                 where status = 'ok' and debit_account_id is not null
                 union all select submission_id, leg, value_date, credit_account_id, amount_cny from transactions
                 where status = 'ok' and credit_account_id is not null),
        own as (select submission_id, acct, value_date, sum(case when amt > 0 then amt else 0 end) as cr,
                sum(case when amt < 0 then -amt else 0 end) as dr from legs where leg = 'bank' group by all),
        cust as (select submission_id, acct, sum(case when amt > 0 then amt else 0 end) as cr,
                 sum(case when amt < 0 then -amt else 0 end) as dr from legs where leg = 'customer' group by all)
        select a.* from a left join own o on o.submission_id = a.submission_id and o.acct = a.account_id
            and o.value_date = a.biz_date
        left join cust c on c.submission_id = a.submission_id and c.acct = a.account_id
        where (a.account_class like 'CUSTOMER%' and (a.credits <> coalesce(c.cr, 0) or a.debits <> coalesce(c.dr, 0)))
           or (a.account_class not like 'CUSTOMER%' and (a.credits <> coalesce(o.cr, 0) or a.debits <> coalesce(o.dr, 0)))""",
    "X-01 own rows every day": """
        select a.submission_id, a.account_id, count(*) as n, max(s.period) from account_balances a
        join accounts c using (submission_id, account_id) join submissions s using (submission_id)
        where c.account_class not like 'CUSTOMER%' group by all
        having count(*) <> date_diff('day', greatest(min(c.open_date), strptime(max(s.period) || '-01', '%Y-%m-%d')::date),
                                     last_day(strptime(max(s.period) || '-01', '%Y-%m-%d')::date)) + 1""",
    "X-01 across periods": """
        with b as (select s.enterprise_id, s.period, a.account_id, a.biz_date, a.opening, a.closing
                   from account_balances a join current_submissions s using (submission_id)),
        f as (select enterprise_id, period, account_id, arg_min(opening, biz_date) as first_open from b group by all),
        l as (select enterprise_id, period, account_id, arg_max(closing, biz_date) as last_close from b group by all)
        select f.*, l.last_close from f join l on l.enterprise_id = f.enterprise_id and l.account_id = f.account_id
            and strftime(strptime(l.period || '-01', '%Y-%m-%d') + interval 1 month, '%Y-%m') = f.period
        where f.first_open <> l.last_close""",
    "X-03 bank confirmation": """
        select b.* from account_balances b join accounts c using (submission_id, account_id)
        where c.account_class in ('RESERVE_CENTRAL', 'RESERVE_BANK', 'CUSTODY_SUMMARY', 'OWN_FUNDS')
          and b.bank_confirmed_closing is distinct from b.closing""",
    "negative balance": """
        select b.* from account_balances b join accounts c using (submission_id, account_id)
        where c.account_class <> 'SETTLEMENT' and (b.closing < 0 or b.opening < 0)""",
    "X-05 loan roll-forward": """
        with cur as (select s.enterprise_id, s.period, l.* from loans l join current_submissions s using (submission_id)),
        rep as (select submission_id, loan_id, sum(principal_part) as p from transactions where leg = 'customer'
                and purpose = 'repayment' and status = 'ok' group by all)
        select c.* , p.outstanding_principal as prev from cur c
        left join cur p on p.enterprise_id = c.enterprise_id and p.loan_id = c.loan_id
            and strftime(strptime(p.period || '-01', '%Y-%m-%d') + interval 1 month, '%Y-%m') = c.period
        left join rep r on r.submission_id = c.submission_id and r.loan_id = c.loan_id
        where (p.loan_id is not null or c.origination_date >= strptime(c.period || '-01', '%Y-%m-%d')::date)
          and c.outstanding_principal <> coalesce(p.outstanding_principal, c.contract_principal)
              - coalesce(r.p, 0) - c.written_off_in_period""",
    "X-06 disbursement": """
        select l.* from loans l left join (select submission_id, loan_id, sum(amount_cny) as d from transactions
            where leg = 'customer' and purpose = 'loan_disbursement' and status = 'ok' group by all) t
            using (submission_id, loan_id)
        join submissions s using (submission_id)
        where l.origination_date >= strptime(s.period || '-01', '%Y-%m-%d')::date
          and coalesce(t.d, 0) <> l.disbursed_amount""",
    "X-07 positions": """
        select l.*, i.p from loans l left join (select submission_id, loan_id, sum(principal) as p from investments
            where product_type in ('p2p_loan', 'cf_debt') group by all) i using (submission_id, loan_id)
        where l.status in ('current', 'overdue') and coalesce(i.p, 0) <> l.outstanding_principal""",
    "CRD-006 pricing": "select * from loans where apr_comprehensive > 0.36 or disbursed_amount < contract_principal",
    "CRD-007 maturity": """
        select i.* from investments i join loans l using (submission_id, loan_id)
        where i.term_days < date_diff('day', i.start_date, l.maturity_date)""",
    "X-08 accounts referenced": """
        select t.* from transactions t where (debit_account_id is not null and debit_account_id not in
            (select account_id from accounts a where a.submission_id = t.submission_id))
         or (credit_account_id is not null and credit_account_id not in
            (select account_id from accounts a where a.submission_id = t.submission_id))""",
    "X-08 parties referenced": """
        with refs as (select submission_id, payer_party_id as p from transactions union all
                      select submission_id, payee_party_id from transactions union all
                      select submission_id, owner_party_id from accounts union all
                      select submission_id, party_id from complaints union all
                      select submission_id, party_id from aml_reports union all
                      select submission_id, borrower_party_id from loans union all
                      select submission_id, investor_party_id from investments)
        select * from refs r where p is not null and not exists
            (select 1 from parties x where x.submission_id = r.submission_id and x.party_id = r.p)""",
    "X-08 loans and positions referenced": """
        select t.* from transactions t where (loan_id is not null and not exists (select 1 from loans l where
            l.submission_id = t.submission_id and l.loan_id = t.loan_id))
         or (investment_id is not null and not exists (select 1 from investments i where
            i.submission_id = t.submission_id and i.investment_id = t.investment_id))""",
    "X-09 complaints": """
        select * from complaints where closed_at < received_at
            or (resolution = 'in_progress') <> (closed_at is null)""",
    "X-12 liquidity identity": """
        with d as (select t.submission_id, value_date as day, sum(case when ca.account_class like 'CUSTOMER%'
                       then amount_cny else 0 end) - sum(case when da.account_class like 'CUSTOMER%'
                       then amount_cny else 0 end) as net
                   from transactions t
                   left join accounts ca on ca.submission_id = t.submission_id and ca.account_id = t.credit_account_id
                   left join accounts da on da.submission_id = t.submission_id and da.account_id = t.debit_account_id
                   where leg = 'customer' and status = 'ok' group by all),
        o as (select b.submission_id, sum(b.opening) as opening from account_balances b join accounts c
              using (submission_id, account_id) where c.account_class like 'CUSTOMER%' group by all),
        tot as (select l.submission_id, l.as_of_date, o.opening + coalesce((select sum(net) from d where
                d.submission_id = l.submission_id and d.day <= l.as_of_date), 0) as total,
                l.customer_bal_stable + l.customer_bal_less_stable as filed
                from liquidity l join o using (submission_id))
        select * from tot where total <> filed""",
    "LIQ-001": """
        select * from liquidity where hqla < (outflows_30d + 0.05 * customer_bal_stable
            + 0.1 * customer_bal_less_stable) - least(inflows_30d, 0.75 * (outflows_30d
            + 0.05 * customer_bal_stable + 0.1 * customer_bal_less_stable))""",
    "X-15 value dates": """
        select t.* from transactions t join submissions s using (submission_id)
        where strftime(t.value_date, '%Y-%m') <> s.period
           or timezone('Asia/Shanghai', t.booked_at)::date <> t.value_date""",
    "X-15 open dates": """
        select t.* from transactions t join accounts a on a.submission_id = t.submission_id
            and a.account_id in (t.debit_account_id, t.credit_account_id) where t.value_date < a.open_date""",
    "USCC": "select * from enterprise_profile where length(uscc) <> 18",
}


def run_checks(
    con: duckdb.DuckDBPyConnection,
    names: list[str] | None = None,
    exclude: set[str] | frozenset = frozenset(),
) -> dict[str, int]:
    """Offending row count per check, leaving out the rows of the `exclude`d submissions (the injected
    ones: their own irregularity is meant to break a check)."""
    counts = {}
    for name, sql in CHECKS.items():
        if names is not None and name not in names:
            continue
        cols = [d[0] for d in con.execute(f"select * from ({sql}) limit 0").description]
        where = "where submission_id not in (select unnest(?::varchar[]))" if "submission_id" in cols else ""
        params = [sorted(exclude)] if where else []
        counts[name] = con.execute(f"select count(*) from ({sql}) {where}", params).fetchall()[0][0]
    return counts


def coverage(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """Daily derived customer total and the money backing it (RES-001 for PAY reserves, SEG-001 custody):
    enterprise_id, period, day, customer_total, backing, ratio."""
    con.execute("""create or replace view coverage as
        with days as (select distinct b.submission_id, b.biz_date as day from account_balances b
                      join accounts c using (submission_id, account_id)
                      where c.account_class not like 'CUSTOMER%'),
        flows as (select t.submission_id, t.value_date as day,
                    sum(case when ca.account_class like 'CUSTOMER%' then amount_cny else 0 end)
                  - sum(case when da.account_class like 'CUSTOMER%' then amount_cny else 0 end) as net
                  from transactions t
                  left join accounts ca on ca.submission_id = t.submission_id and ca.account_id = t.credit_account_id
                  left join accounts da on da.submission_id = t.submission_id and da.account_id = t.debit_account_id
                  where t.leg = 'customer' and t.status = 'ok' group by all),
        opening as (select b.submission_id, sum(b.opening) as o from account_balances b join accounts c
                    using (submission_id, account_id) where c.account_class like 'CUSTOMER%' group by all),
        total as (select d.submission_id, d.day, any_value(o.o) + coalesce(sum(f.net), 0) as customer_total
                  from days d join opening o using (submission_id)
                  left join flows f on f.submission_id = d.submission_id and f.day <= d.day
                  group by d.submission_id, d.day),
        backing as (select b.submission_id, b.biz_date as day, sum(b.bank_confirmed_closing) as backing
                    from account_balances b join accounts c using (submission_id, account_id)
                    where c.account_class in ('RESERVE_CENTRAL', 'RESERVE_BANK', 'CUSTODY_SUMMARY') group by all)
        select s.enterprise_id, s.period, t.day, t.customer_total, b.backing,
               case when t.customer_total > 0 then b.backing / t.customer_total end as ratio
        from total t join backing b using (submission_id, day) join submissions s using (submission_id)
        """)
    return con.sql("select * from coverage order by all")


def main(argv: list[str]) -> int:
    landing = Path(argv[0])
    problems = [p for f in packages(landing) for p in manifest_problems(f)]
    con = load(landing)
    counts = run_checks(con)
    for name, n in counts.items():
        print(f"{'OK ' if n == 0 else 'BAD'} {name}: {n}")
    coverage(con)
    low = con.execute("select count(*) from coverage where ratio < 1").fetchall()[0][0]
    print(f"{'OK ' if low == 0 else 'BAD'} coverage >= 1 every day: {low} days below")
    print(f"{'OK ' if not problems else 'BAD'} manifests: {problems[:5]}")
    return 0 if not problems and not any(counts.values()) and low == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
