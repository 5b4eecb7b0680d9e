"""Content fingerprints of a home's warehouse and snapshots, to prove a refactor changes no value.

    python -m bench.fingerprints make HOME --preset small --seed 1   # synth + one backfill cycle, fixed clock
    python -m bench.fingerprints dump HOME > before.json              # every table's content hash
    python -m bench.fingerprints compare before.json after.json       # exit 1 and list the tables that differ

A table's hash is `pipelines.warehouse.fingerprint.table_fingerprint` (order-independent, every bit of every
value). Left out: what differs between two homes or two wall clocks by design (the same list as the
reliability tests, tests/reliability/harness.py). The pseudonym key is fixed, so two homes publish the same
pseudonyms.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from pipelines.warehouse.fingerprint import table_fingerprints

AS_OF = "2026-12-01T00:00:00Z"
PSEUDONYM_KEY = "5e" * 32
SKIP_SCHEMAS = {"information_schema", "pg_catalog", "main"}
EXCLUDE = {
    "intake.deliveries": ("archive_path",),
    "intake.submissions": ("archive_path",),
    "meta.schema_version": ("applied_at",),
    "meta.publication": ("published_at",),
}


def dump(home: Path) -> dict[str, str]:
    """{"<file>:<schema>.<table>": sha256} over the live warehouse and both published snapshots."""
    out: dict[str, str] = {}
    for name, path in (
        ("warehouse", home / "warehouse" / "suptech.duckdb"),
        ("published", home / "published" / "suptech.duckdb"),
        ("auditor", home / "published" / "auditor.duckdb"),
    ):
        if not path.exists():
            continue
        con = duckdb.connect(str(path), read_only=True)
        try:
            rows = con.execute(
                "select distinct table_schema from information_schema.tables "
                "where table_catalog = current_database()"
            ).fetchall()
            schemas = sorted(s for (s,) in rows if s not in SKIP_SCHEMAS)
            for table, digest in table_fingerprints(con, schemas, exclude=EXCLUDE).items():
                out[f"{name}:{table}"] = digest
        finally:
            con.close()
    return out


def compare(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The tables whose content differs, or that exist on one side only."""
    return [
        f"{key}: {'missing after' if key not in after else 'missing before' if key not in before else 'differs'}"
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]


def make(home: Path, preset: str, seed: int) -> None:
    """A fresh home: `suptech synth` then one backfill cycle at the fixed clock."""
    env = {**os.environ, "SUPTECH_PSEUDONYM_KEY": PSEUDONYM_KEY}
    suptech = [sys.executable, "-m", "pipelines.cli"]
    if home.exists() and any(home.iterdir()):
        raise SystemExit(f"{home} is not empty: give a new folder")
    for args in (
        ["synth", "--home", str(home), "--preset", preset, "--seed", str(seed)],
        ["run", "--home", str(home), "--backfill", "--as-of", AS_OF],
    ):
        subprocess.run([*suptech, *args], check=True, env=env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="verb", required=True)
    m = sub.add_parser("make")
    m.add_argument("home", type=Path)
    m.add_argument("--preset", default="small")
    m.add_argument("--seed", type=int, default=1)
    d = sub.add_parser("dump")
    d.add_argument("home", type=Path)
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.verb == "make":
        make(args.home, args.preset, args.seed)
    elif args.verb == "dump":
        json.dump(dump(args.home), sys.stdout, indent=1, sort_keys=True)
        print()
    else:
        diff = compare(*(json.loads(p.read_text(encoding="utf-8")) for p in (args.before, args.after)))
        print("\n".join(diff) if diff else "identical")
        return 1 if diff else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
