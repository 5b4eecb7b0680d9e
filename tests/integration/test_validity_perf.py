"""Timing of the validity stage on large generated submissions (pytest -m slow -s to see the numbers).

VALIDITY_BENCH_ROWS=10000000 runs the big case at 10M transaction rows."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

import duckdb
import pytest

from pipelines.quality.validity import run_validity_stage
from pipelines.warehouse.schema import create_schema

pytestmark = pytest.mark.slow
FOUND_AT = datetime(2026, 11, 11, tzinfo=UTC)


def generate_pay(con: duckdb.DuckDBPyConnection, sid: str, n_tx: int, n_cust: int = 10_000) -> None:
    """A valid PAY submission for 2026-10 with n_tx wallet-to-wallet payments, generated in DuckDB."""
    ent = sid.split("-")[0]
    con.execute("set enable_progress_bar = false")
    con.execute(f"""insert into raw.enterprise_profile values ('{sid}', 1, '{ent}', '91310115MA1K000190',
        'Bench Pay', 'PAY', 'Z1', '310000', null, 1000000.00, 'CNY')""")
    con.execute(f"""insert into raw.parties select '{sid}', i, '{ent}', 'P' || i, 'natural', sha256('p' || i), null,
        '310115', 'CN', false, 'II', false, date '2026-01-01' from range(1, {n_cust} + 1) t(i)""")
    con.execute(f"""insert into raw.accounts
        select '{sid}', 1, '{ent}', 'RC1', null, 'RESERVE_CENTRAL', null, null, 'PBOC', 'CNY', date '2024-01-01', null, null
        union all
        select '{sid}', i + 1, '{ent}', 'W-' || i, 'P' || i, 'CUSTOMER_WALLET', null, null, null, 'CNY',
               date '2026-01-01', null, null
        from range(1, {n_cust} + 1) t(i)""")
    ts = "timestamptz '2026-10-01 01:00:00+00' + to_seconds(i % 2600000)"
    con.execute(f"""insert into raw.transactions
        select '{sid}', i, '{ent}', 'T' || i, 'E' || i, 'customer', {ts},
            cast(timezone('Asia/Shanghai', {ts}) as date),
            'W-' || (1 + i % {n_cust}), 'W-' || (1 + (i + 1) % {n_cust}),
            'P' || (1 + i % {n_cust}), 'P' || (1 + (i + 1) % {n_cust}),
            (1 + i % 1000)::decimal(20,2), 'CNY', (1 + i % 1000)::decimal(20,2), 'online_balance', 'payment',
            null, null, null, null, null, null, false, null, null, null, 'ok', null
        from range(1, {n_tx} + 1) t(i)""")
    con.execute(f"""insert into raw.account_balances
        select '{sid}', row_number() over (), '{ent}', account_id, biz_date, opening, credits, debits, closing, bcc
        from (
          select 'RC1' as account_id, d::date as biz_date, 1000000.00 as opening, 0.00 as credits, 0.00 as debits,
                 1000000.00 as closing, 1000000.00 as bcc
          from generate_series(date '2026-10-01', date '2026-10-31', interval 1 day) g(d)
          union all
          select a.account_id, date '2026-10-31', 100000.00, coalesce(c.cr, 0), coalesce(d.dr, 0),
                 100000.00 + coalesce(c.cr, 0) - coalesce(d.dr, 0), null
          from raw.accounts a
          left join (select credit_account_id as account_id, sum(amount_cny) as cr from raw.transactions
                     where submission_id = '{sid}' group by all) c using (account_id)
          left join (select debit_account_id as account_id, sum(amount_cny) as dr from raw.transactions
                     where submission_id = '{sid}' group by all) d using (account_id)
          where a.submission_id = '{sid}' and a.account_class = 'CUSTOMER_WALLET')""")


def test_large_transactions_table(tmp_path):
    rows = int(os.environ.get("VALIDITY_BENCH_ROWS", "1000000"))
    db = tmp_path / "bench.duckdb"
    con = duckdb.connect(str(db))
    create_schema(con)
    sid = "PAY0002-2026-10-v1"
    generate_pay(con, sid, rows)
    t0 = time.perf_counter()
    errors = run_validity_stage(con, db, [sid], found_at=FOUND_AT)
    elapsed = time.perf_counter() - t0
    con.close()
    print(f"\nvalidity stage, {rows:,} transaction rows: {elapsed:.1f} s")
    assert errors == {sid: 0}
    assert (
        elapsed < 60 * max(1, rows // 1_000_000) ** 0.5 * 2
    )  # a loose guard against a pathological regression


def test_hundreds_of_submissions_in_one_call(tmp_path):
    db = tmp_path / "many.duckdb"
    con = duckdb.connect(str(db))
    create_schema(con)
    sids = [f"PAY{1000 + i:04d}-2026-10-v1" for i in range(200)]
    for sid in sids:
        generate_pay(con, sid, 200, n_cust=20)
    t0 = time.perf_counter()
    errors = run_validity_stage(con, db, sids, found_at=FOUND_AT)
    elapsed = time.perf_counter() - t0
    con.close()
    print(f"\nvalidity stage, {len(sids)} submissions in one call: {elapsed:.1f} s")
    assert errors == dict.fromkeys(sids, 0)
