"""Field-level difference between two versions of an enterprise x period, set-based in DuckDB.

Per filing type, rows are matched on the contract's key: added (only in the new version), removed
(only in the old), changed (a non-key column differs, nulls compared as values). Per changed column:
the count and up to EXAMPLES record keys. Control totals (the manifests' declared totals, checked by
the syntax stage) old vs new with the relative change (new - old) / max(|old|, 1.00). Stored in intake.version_diffs and
intake.version_diff_fields when a version >= 2 is accepted; `suptech diff` reads or recomputes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import duckdb

from pipelines.contracts import Contract, load_contracts
from pipelines.quality.rules import rk
from pipelines.warehouse.db import fetch_one

EXAMPLES = 5
ONE = Decimal("1.00")


@dataclass
class FilingTypeDiff:
    filing_type: str
    rows_old: int
    rows_new: int
    rows_added: int
    rows_removed: int
    rows_changed: int
    control_totals: dict[str, dict[str, str | None]] = field(default_factory=dict)
    fields: dict[str, tuple[int, list[str]]] = field(default_factory=dict)  # column -> (count, example keys)

    def as_dict(self) -> dict:
        return {
            "filing_type": self.filing_type,
            "rows_old": self.rows_old,
            "rows_new": self.rows_new,
            "rows_added": self.rows_added,
            "rows_removed": self.rows_removed,
            "rows_changed": self.rows_changed,
            "control_totals": self.control_totals,
            "fields": {c: {"rows_changed": n, "example_keys": ex} for c, (n, ex) in self.fields.items()},
        }


def _diff_filing_type(con: duckdb.DuckDBPyConnection, c: Contract, old: str, new: str) -> FilingTypeDiff:
    ft, keys = c.filing_type, c.key
    others = [col for col in c.column_names if col not in keys]
    on = " and ".join(f"o.{k} = n.{k}" for k in keys)
    differs = {col: f"o.{col} is distinct from n.{col}" for col in others}
    flags = "".join(f", {expr} as d_{col}" for col, expr in differs.items())
    # one full outer join on the key; the record key is built only for matched pairs that differ
    per_col = "".join(
        f", count(__key) filter (where d_{col}), (list(__key order by __key) filter (where __key is not null and d_{col}))[1:{EXAMPLES}]"
        for col in others
    )
    matched = f"o.{keys[0]} is not null and n.{keys[0]} is not null"
    changed_any = " or ".join(differs.values()) or "false"
    row = fetch_one(
        con,
        f"""with o as (select * from raw.{ft} where submission_id = $old),
                 n as (select * from raw.{ft} where submission_id = $new),
                 j as (
                     select o.{keys[0]} is null as __added, n.{keys[0]} is null as __removed,
                            case when {matched} and ({changed_any}) then {rk(ft, "n")} end as __key{flags}
                     from o full outer join n on {on})
            select (select count(*) from o), (select count(*) from n),
                   count(*) filter (where __added), count(*) filter (where __removed),
                   count(__key){per_col}
            from j""",
        {"old": old, "new": new},
    )
    d = FilingTypeDiff(ft, *row[:5])
    for i, col in enumerate(others):
        n, examples = row[5 + 2 * i], row[6 + 2 * i]
        if n:
            d.fields[col] = (n, list(examples or []))
    return d


def _control_totals(con: duckdb.DuckDBPyConnection, old: str, new: str) -> dict[str, dict[str, dict]]:
    rows = con.execute(
        "select submission_id, filing_type, control_totals from intake.files where submission_id in (?, ?)",
        [old, new],
    ).fetchall()
    declared = {(sid, ft): json.loads(ct) if ct else {} for sid, ft, ct in rows}
    out: dict[str, dict[str, dict]] = {}
    for (sid, ft), totals in declared.items():
        if sid != new:
            continue
        for name, value in totals.items():
            before = declared.get((old, ft), {}).get(name)
            rel = None
            if before is not None:
                # signed; the denominator is M008's (resubmission drift): max(|old|, 1.00)
                rel = str(round((Decimal(value) - Decimal(before)) / max(abs(Decimal(before)), ONE), 6))
            out.setdefault(ft, {})[name] = {"old": before, "new": value, "rel_change": rel}
    return out


def compute(con: duckdb.DuckDBPyConnection, old: str, new: str) -> list[FilingTypeDiff]:
    """The difference from submission `old` to submission `new`, per filing type either one holds."""
    present = {
        ft
        for (ft,) in con.execute(
            "select distinct filing_type from intake.files where submission_id in (?, ?)", [old, new]
        ).fetchall()
    }
    totals = _control_totals(con, old, new)
    diffs = []
    for ft, c in load_contracts().items():
        if ft not in present:
            continue
        d = _diff_filing_type(con, c, old, new)
        d.control_totals = totals.get(ft, {})
        diffs.append(d)
    return diffs


def store(con: duckdb.DuckDBPyConnection, old: str, new: str, at: datetime) -> list[FilingTypeDiff]:
    """Compute and store the difference (replacing an earlier one for the same pair)."""
    diffs = compute(con, old, new)
    if not diffs:
        return diffs
    for table in ("intake.version_diffs", "intake.version_diff_fields"):
        con.execute(f"delete from {table} where submission_id = ? and base_submission_id = ?", [new, old])
    con.executemany(
        "insert into intake.version_diffs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                new,
                old,
                d.filing_type,
                d.rows_old,
                d.rows_new,
                d.rows_added,
                d.rows_removed,
                d.rows_changed,
                json.dumps(d.control_totals),
                at,
            )
            for d in diffs
        ],
    )
    fields = [(new, old, d.filing_type, col, n, ex) for d in diffs for col, (n, ex) in d.fields.items()]
    if fields:
        con.executemany("insert into intake.version_diff_fields values (?, ?, ?, ?, ?, ?)", fields)
    return diffs


def stored(con: duckdb.DuckDBPyConnection, old: str, new: str) -> list[FilingTypeDiff] | None:
    """The stored difference for this pair, or None when none was stored."""
    rows = con.execute(
        "select filing_type, rows_old, rows_new, rows_added, rows_removed, rows_changed, control_totals "
        "from intake.version_diffs where base_submission_id = ? and submission_id = ?",
        [old, new],
    ).fetchall()
    if not rows:
        return None
    order = list(load_contracts())
    diffs = {
        ft: FilingTypeDiff(ft, n_old, n_new, added, removed, changed, json.loads(totals) if totals else {})
        for ft, n_old, n_new, added, removed, changed, totals in rows
    }
    for ft, col, n, ex in con.execute(
        "select filing_type, column_name, rows_changed, example_keys from intake.version_diff_fields "
        "where base_submission_id = ? and submission_id = ? order by column_name",
        [old, new],
    ).fetchall():
        diffs[ft].fields[col] = (n, list(ex or []))
    return sorted(diffs.values(), key=lambda d: order.index(d.filing_type))
