"""Publishing the auditors' snapshot: the inactive slot brought up to date in place (what publishing does,
pipelines/warehouse/auditor_slots.py) against a whole copy of the warehouse (what it did before, and still
does for a slot it cannot update), side by side on the same home; with the analysts' file, built new.

    .venv/bin/python -m bench.publish_snapshot --home <home> [--repeat 3] [--out DIR] [--cold]

<home> must have published at least twice since its last change (e.g. the home `make bench-resubmission
BENCH_ARGS=--keep` leaves: backfill, idle cycle, resubmission), so its inactive slot holds the version
before the last publication: each repetition copies that slot to --out (not timed) and brings the copy up
to the live warehouse in place (timed) - the last publication's own work -, then makes a whole copy (timed)
and the analysts' file (timed), with the bytes each read and wrote from storage (the copy's writes are
the file's size; in place they follow the change). --cold drops the page cache before each timed run (root
only): at `national` the warehouse is larger than the memory, and a copy reads it from disk. No cycle may
run meanwhile. Prints one Markdown table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.home import Home
from pipelines.warehouse import auditor_slots
from pipelines.warehouse.pseudonym import load_key
from pipelines.warehouse.publish import build_analyst, write_meta_table


def _meta(slot: Path) -> dict:
    con = duckdb.connect(str(slot), read_only=True)
    try:
        row = con.execute(
            "select published_at, as_of, audit_head_seq, audit_head_hash, pseudonym_key_id from meta.publication"
        ).fetchone()
    finally:
        con.close()
    if row is None:
        raise SystemExit(f"{slot} holds no meta.publication: publish twice first")
    return dict(zip(("published_at", "as_of", "head_seq", "head_hash", "key_id"), row, strict=True))


def _io() -> dict[str, int]:
    """This process's bytes read from and written to storage (Linux /proc/self/io)."""
    fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return {k: int(fields[k]) for k in ("read_bytes", "write_bytes")}


def _drop_page_cache() -> None:
    """Flush dirty pages and drop the page cache (root only), so a route reads its files from disk."""
    os.sync()
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True)
    parser.add_argument("--out", default="/tmp/suptech-bench-publish")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="drop the page cache before each run (root)")
    args = parser.parse_args()
    home = Home.resolve(args.home)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if auditor_slots.active_slot(home) is None:
        raise SystemExit(f"{home.root} has no published slot: run two cycles first")
    older = auditor_slots.inactive_slot(home)
    meta = {**_meta(older), "published_at": datetime.now(UTC)}

    def write_meta(con: duckdb.DuckDBPyConnection) -> None:
        write_meta_table(con, "auditor", meta)

    scratch = out / "slot.duckdb"
    analyst_file = out / "analyst.duckdb"
    key = load_key(home)

    def in_place() -> None:
        reason = auditor_slots.sync_in_place(home, scratch, write_meta)
        if reason:
            raise SystemExit(f"the slot cannot be updated in place: {reason}")

    routes: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
        (
            "auditors' slot brought up to date in place",
            lambda: shutil.copyfile(older, scratch),
            in_place,
        ),
        (
            "auditors' snapshot as a whole copy",
            lambda: scratch.unlink(missing_ok=True),
            lambda: auditor_slots.copy_whole(home, scratch, write_meta),
        ),
        (
            "analysts' file built new",
            lambda: analyst_file.unlink(missing_ok=True),
            lambda: build_analyst(home, analyst_file, key, meta),
        ),
    ]
    size = home.warehouse.stat().st_size / 1e6
    print(
        f"warehouse {home.warehouse}: {size:,.1f} MB; older slot {older.name} (audit seq {meta['head_seq']})"
    )
    print(f"page cache: {'dropped before each run (cold)' if args.cold else 'as the runs leave it (warm)'}")
    print("| route | median | runs | read / written from storage, median |")
    print("|---|---|---|---|")
    for name, prepare, run in routes:
        times, reads, writes = [], [], []
        for _ in range(args.repeat):
            prepare()
            os.sync()
            if args.cold:
                _drop_page_cache()
            before, t0 = _io(), time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
            os.sync()  # the run's dirty pages count as its writes
            after = _io()
            reads.append(after["read_bytes"] - before["read_bytes"])
            writes.append(after["write_bytes"] - before["write_bytes"])
        if run is in_place:
            in_place_size = scratch.stat().st_size / 1e6
        print(
            f"| {name} | {statistics.median(times):.2f} s | {', '.join(f'{t:.2f}' for t in times)} | "
            f"{statistics.median(reads) / 1e6:,.0f} MB / {statistics.median(writes) / 1e6:,.0f} MB |"
        )
    print(f"slot after the in-place update: {in_place_size:,.1f} MB, as a whole copy: {size:,.1f} MB")


if __name__ == "__main__":
    main()
