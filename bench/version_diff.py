"""Version diff at size: the stored field-level difference between two versions of a transactions file.

Usage: .venv/bin/python -m bench.version_diff --rows 1000000 [--repeat 3]

Builds, in a scratch DuckDB file, raw.transactions for v1 (`rows` rows) and v2 = v1 with 1% of the
rows changed (amount and channel), 0.5% removed and 0.5% added, plus their intake.files entries;
then times `pipelines.intake.diff.store` (what the intake runs when v2 supersedes v1). Prints the
median and checks the counts.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.contracts import load_contracts
from pipelines.intake import diff
from pipelines.warehouse.schema import create_schema

V1, V2 = "PAY9999-2026-10-v1", "PAY9999-2026-10-v2"


def build(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    create_schema(con)
    cols = load_contracts()["transactions"].columns
    filled = {
        "enterprise_id": "'PAY9999'",
        "txn_id": "'T' || lpad(cast(i as varchar), 9, '0')",
        "event_id": "'E' || cast(i // 2 as varchar)",
        "leg": "case when i % 2 = 0 then 'customer' else 'bank' end",
        "value_date": "date '2026-10-01' + cast(i % 31 as integer)",
        "amount": "cast(10 + (i * 7919) % 100000 / 100.0 as decimal(20,2))",
        "amount_cny": "cast(10 + (i * 7919) % 100000 / 100.0 as decimal(20,2))",
        "currency": "'CNY'",
        "channel": "'transfer'",
        "status": "'ok'",
    }
    select = ", ".join(f"cast({filled.get(c.name, 'null')} as {c.duckdb_type})" for c in cols)
    names = ", ".join(c.name for c in cols)
    con.execute(
        f"insert into raw.transactions (submission_id, _row, {names}) "
        f"select '{V1}', i, {select} from range(1, {rows} + 1) t(i)"
    )
    # v2: drop every 200th row, add as many new ones, change amount and channel on every 100th (+50) row
    con.execute(
        f"""insert into raw.transactions
            select * replace ('{V2}' as submission_id,
                case when _row % 100 = 50 then amount_cny + 1 else amount_cny end as amount_cny,
                case when _row % 100 = 50 then 'card' else channel end as channel)
            from raw.transactions where submission_id = '{V1}' and _row % 200 <> 0"""
    )
    con.execute(
        f"""insert into raw.transactions
            select * replace ('{V2}' as submission_id, 'N' || txn_id as txn_id)
            from raw.transactions where submission_id = '{V1}' and _row % 200 = 0"""
    )
    for sid in (V1, V2):
        total = con.execute(
            "select sum(amount_cny) from raw.transactions where submission_id = ?", [sid]
        ).fetchone()[0]
        con.execute(
            "insert into intake.files (submission_id, filing_type, path, control_totals) values (?, ?, ?, ?)",
            [sid, "transactions", "transactions.csv", f'{{"amount_cny": "{total}"}}'],
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-diff-") as tmp:
        con = duckdb.connect(str(Path(tmp) / "w.duckdb"))
        con.execute("set TimeZone = 'UTC'")
        t0 = time.perf_counter()
        build(con, args.rows)
        print(f"built 2 x {args.rows} rows in {time.perf_counter() - t0:.1f} s")
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            (d,) = diff.store(con, V1, V2, datetime.now(UTC))
            times.append(time.perf_counter() - start)
        con.close()
    n = args.rows
    assert (d.rows_added, d.rows_removed) == (n // 200, n // 200), d
    assert d.rows_changed == sum(1 for i in range(50, n + 1, 100) if i % 200), d
    assert d.fields["amount_cny"][0] == d.fields["channel"][0] == d.rows_changed
    print(
        f"diff of 2 x {n} transaction rows: median {statistics.median(times):.2f} s over {args.repeat} "
        f"(added {d.rows_added}, removed {d.rows_removed}, changed {d.rows_changed}; "
        f"amount_cny {d.control_totals['amount_cny']['rel_change']})"
    )


if __name__ == "__main__":
    main()
