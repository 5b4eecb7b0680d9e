"""P7: peak memory while taking in one large file through the normal intake.

Writes a valid PAY0001 package (the spec example) whose transactions file is grown to the asked size
(streamed by DuckDB, never held in Python), then takes it in with the ordinary intake in a child process
and reports wall time and the child's peak RSS (getrusage of children).

    .venv/bin/python -m bench.intake_large_file --size-gb 1 --work /tmp/p7
    .venv/bin/python -m bench.intake_large_file --size-gb 1 3 10 --work /tmp/p7 --keep-going

Results (sizes, rows, time, peak RSS) are printed as a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.contracts import load_contracts

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT.parent / "shared" / "spec" / "examples" / "PAY0001" / "PAY0001-2026-10-v1"
ROW_BYTES = 180  # about the size of one generated leg as CSV text
CLOCK = "2026-11-21T00:00:00+00:00"


def _legs_sql(rows: int) -> str:
    """One valid customer top-up leg per row, all varchar as a filer would write them."""
    cols = {
        "enterprise_id": "'PAY0001'",
        "txn_id": "'PAY0001-G' || lpad(i::varchar, 12, '0')",
        "event_id": "'PAY0001-F' || lpad(i::varchar, 12, '0')",
        "leg": "'customer'",
        "booked_at": "strftime(timestamp '2026-10-01 00:00:00' + to_seconds(i % 2678400), '%Y-%m-%dT%H:%M:%S')"
        " || '+08:00'",
        "value_date": "strftime(date '2026-10-01' + cast((i % 2678400) // 86400 as integer), '%Y-%m-%d')",
        "debit_account_id": "null",
        "credit_account_id": "'W-P1'",
        "payer_party_id": "'P1'",
        "payee_party_id": "'P1'",
        "amount": "amount",
        "currency": "'CNY'",
        "amount_cny": "amount",
        "channel": "'card'",
        "purpose": "'top_up'",
        "is_cross_border": "'false'",
        "cp_country": "'CN'",
        "cp_region": "'310115'",
        "status": "'ok'",
    }
    names = load_contracts()["transactions"].column_names
    select = ", ".join(f"{cols.get(n, 'null')} as {n}" for n in names)
    return (
        f"select {select} from (select i, printf('%d.%02d', 1 + (i * 7919) % 99999, i % 100) as amount "
        f"from range({rows}) t(i))"
    )


def write_package(work: Path, size_gb: float) -> tuple[Path, int, int]:
    """landing/PAY0001/PAY0001-2026-10-v1/ with a transactions.csv of about size_gb. Returns folder, rows, bytes."""
    pkg = work / "home" / "landing" / "PAY0001" / EXAMPLE.name
    if pkg.parent.parent.parent.exists():
        shutil.rmtree(pkg.parent.parent.parent)
    pkg.mkdir(parents=True)
    for f in EXAMPLE.iterdir():
        if f.name != "manifest.json":
            shutil.copyfile(f, pkg / f.name)
    rows = int(size_gb * (1 << 30) / ROW_BYTES)
    con = duckdb.connect()
    con.execute("set preserve_insertion_order = true")
    out = pkg / "transactions.csv"
    con.execute(f"copy ({_legs_sql(rows)}) to '{out}' (header, delimiter ',')")
    total = con.execute(f"select sum(cast(amount_cny as decimal(38,2))) from ({_legs_sql(rows)})").fetchone()[
        0
    ]
    con.close()
    m = json.loads((EXAMPLE / "manifest.json").read_text(encoding="utf-8"))
    for f in m["files"]:
        h = hashlib.sha256()
        with open(pkg / f["path"], "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        f["sha256"] = h.hexdigest()
        if f["filing_type"] == "transactions":
            f["row_count"] = rows
            f["control_totals"] = {"amount_cny": f"{total:.2f}"}
    (pkg / "manifest.json").write_text(json.dumps(m, indent=2, ensure_ascii=False), encoding="utf-8")
    stamp = datetime.fromisoformat(m["submitted_at"]).timestamp()
    os.utime(pkg / "manifest.json", (stamp, stamp))
    return pkg, rows, out.stat().st_size


def child(home: str) -> None:
    """The normal intake over the home's landing area, as `suptech run` takes it in."""
    from pipelines.home import Home
    from pipelines.intake.service import take_in
    from pipelines.warehouse.db import connect_writer, writer_lock

    h = Home.resolve(home).ensure()
    with writer_lock(h), connect_writer(h) as con:
        outcomes = take_in(con, h, clock=datetime.fromisoformat(CLOCK).astimezone(UTC), backfill=True)
        rows = con.execute("select count(*) from raw.transactions").fetchone()[0]
    print(
        json.dumps(
            {"status": [o.status for o in outcomes], "reason": [o.reason for o in outcomes], "rows": rows}
        )
    )


def measure(work: Path, size_gb: float) -> dict:
    t0 = time.perf_counter()
    _, rows, nbytes = write_package(work, size_gb)
    gen_s = time.perf_counter() - t0
    home = work / "home"
    t1 = time.perf_counter()
    out, err = work / "child.out", work / "child.err"
    with open(out, "w") as fo, open(err, "w") as fe:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.intake_large_file", "--child", str(home)],
            cwd=ROOT,
            stdout=fo,
            stderr=fe,
        )
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS
    wall = time.perf_counter() - t1
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(err.read_text()[-3000:])
    peak_kb = usage.ru_maxrss
    result = json.loads(out.read_text().strip().splitlines()[-1])
    shutil.rmtree(home)  # the next size needs the disk
    return {
        "size_gb": size_gb,
        "bytes": nbytes,
        "rows": rows,
        "status": result["status"],
        "loaded_rows": result["rows"],
        "generate_s": round(gen_s, 1),
        "intake_s": round(wall, 1),
        "peak_rss_mb": round(peak_kb / 1024),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-gb", type=float, nargs="+", default=[1.0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/p7"))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    print("| file size | rows | status | intake wall time | peak RSS (intake process) |")
    print("|---|---|---|---|---|")
    for size in args.size_gb:
        r = measure(args.work, size)
        print(
            f"| {r['bytes'] / (1 << 30):.2f} GiB | {r['rows']:,} | {'/'.join(r['status'])} | "
            f"{r['intake_s']} s | {r['peak_rss_mb']:,} MB |",
            flush=True,
        )
        print(json.dumps(r), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
