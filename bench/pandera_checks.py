"""Issue 13, deliverable 7: the intake's syntax and validity checks written the common way, side by side.

Usage: .venv/bin/python -m bench.pandera_checks [--home /work/bench-runs/pandera-medium] [--repeat 3]

The common alternative (the CFPB's Section 1071 validator's way): read each filing file with pandas
(``pd.read_csv(dtype=str)``, gzip handled by pandas), then validate it against a pandera DataFrameSchema
built from the filing contracts (pipelines/contracts/*.yml, the same source the intake and the GX suites
are generated from; no rule is re-typed here). Against it, the project's intake on a fresh copy of the same
files: ``take_in`` (S rules, typed load into DuckDB) then ``run_validity_stage`` (V rules: the GX suites
inside DuckDB and the SQL rules), the same internal entries bench/intake_throughput.py times (without the
Q/M stages and the decisions, which the pandas route has no counterpart for).

Each route runs in its own child process per repetition (wall time inside the child, excluding imports;
peak RSS of the child from ``os.wait4`` and of its process tree sampled by bench/treemem.py). The home's
landing is generated once (``--preset medium --seed 1``, one month, every injected irregularity) if it is
missing and reused otherwise; every repetition works on a fresh copy of it.

What the pandas + pandera route checks, per file (rule ids of pipelines/quality/catalog):
  S007 listed file present, S009 sha256, S012 gzip/CSV readable, S013 encoding, S010 row count, S011
  control totals (plain pandas, around pandera); S014 column set (schema strict + required columns), S015
  values parse per the contract's value kinds (regexes of _types.yml, dates/timestamps also parsed);
  V001 required, V002/V003 conditional presence (the contract's SQL conditions translated to pandas masks
  by :func:`sql_mask`), V004 enums, V005 ranges, V006-V009 code formats, V010 text length, V011 trimmed,
  V012 key unique, V013 the manifest's enterprise, V014/V015/V016 dates against the period (timestamps
  by their Asia/Shanghai day), V022 USCC check character (``format: uscc``).
Left out: the manifest/package rules S001-S006, S008, S016, S017 (not table checks); V020 and V021 (one
profile row, ent_type vs enterprise_id prefix: stated only in the contracts' prose); the cross-row and
cross-file rules V023 onward (balances vs transactions, account dates, references), which pandera's
one-DataFrame schemas cannot express without hand-written joins. The intake also does not run V rules on a
delivery its S rules made MALFORMED, while the pandas route runs every check on every readable file: the
finding counts differ there by design.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from bench.treemem import TreeSampler

DEFAULT_HOME = Path("/work/bench-runs/pandera-medium")
TEXT_MAX_LENGTH = 200

# --------------------------------------------------------------------------------------------------
# The contracts' SQL conditions (required_when / null_unless) as pandas masks
# --------------------------------------------------------------------------------------------------

_ENT_TYPE = re.compile(r"left\(enterprise_id, length\(enterprise_id\) - 4\)")
_LIKE = re.compile(r"(\w+) (not )?like '([^']*)' escape '\\'")
_IN = re.compile(r"(\w+) (not )?in \(([^)]*)\)")
_NULL = re.compile(r"(\w+) is (not )?null")
_CMP = re.compile(r"(\w+) (=|<>) '([^']*)'")


def _like_regex(pattern: str, escape: str = "\\") -> str:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == escape and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return "".join(out)


@cache
def sql_to_python(expr: str) -> str:
    """The small SQL dialect of the contracts' conditions as a Python expression over ``V(name)`` Series.
    SQL's three-valued logic is approximated: a comparison with a null is false, also under negation."""

    def neg(col: str, body: str, negated: bool) -> str:
        return f"(V('{col}').notna() & ~{body})" if negated else body

    py = _ENT_TYPE.sub("ENT", expr)
    py = _LIKE.sub(
        lambda m: neg(m[1], f"LIKE(V('{m[1]}'), {_like_regex(m[3])!r})", bool(m[2])),
        py,
    )
    py = _IN.sub(lambda m: neg(m[1], f"V('{m[1]}').isin([{m[3]}])", bool(m[2])), py)
    py = _NULL.sub(lambda m: f"V('{m[1]}').{'notna' if m[2] else 'isna'}()", py)
    py = _CMP.sub(
        lambda m: (
            f"(V('{m[1]}') == {m[3]!r})"
            if m[2] == "="
            else f"(V('{m[1]}').notna() & (V('{m[1]}') != {m[3]!r}))"
        ),
        py,
    )
    py = py.replace(" and ", " & ").replace(" or ", " | ")
    if re.search(r"\b(and|or|not|like|in|is|left|length)\b", py.replace("V('", "").replace("')", "")):
        raise ValueError(f"condition not translated: {expr!r} -> {py!r}")
    return py


@cache
def _compiled(expr: str) -> Any:
    return compile(sql_to_python(expr), f"<condition {expr}>", "eval")


def sql_mask(expr: str, df: Any) -> Any:
    """Rows where the contract's SQL condition ``expr`` holds, as a boolean Series."""
    import pandas as pd

    def value(name: str) -> pd.Series:
        if name == "ENT":
            return df["enterprise_id"].str[:-4]
        return df[name]

    def like(s: pd.Series, rx: str) -> pd.Series:
        return s.str.fullmatch(rx).fillna(False).astype(bool)

    ns = {"V": value, "ENT": df["enterprise_id"].str[:-4], "LIKE": like}
    mask = eval(_compiled(expr), {"__builtins__": {}}, ns)  # noqa: S307 - our own translation
    return mask.fillna(False).astype(bool)


# --------------------------------------------------------------------------------------------------
# The pandera schema, built from a contract for one file (its enterprise and period)
# --------------------------------------------------------------------------------------------------


def _period_bounds(period: str) -> tuple[Any, Any]:
    import pandas as pd

    start = pd.Timestamp(f"{period}-01")
    return start, start + pd.offsets.MonthEnd(0)


def _days(s: Any, kind: str) -> Any:
    """Calendar days of date strings, or the Asia/Shanghai day of timestamp strings (NaT: unparsable)."""
    import pandas as pd

    if kind == "timestamp":
        ts = pd.to_datetime(s, utc=True, errors="coerce", format="ISO8601")
        return ts.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None).dt.normalize()
    return pd.to_datetime(s, errors="coerce", format="%Y-%m-%d")


# The enterprise of the file being validated, read by the V013 check: the schema is built once per
# filing type and period (building one per file costs about as much as validating a small file).
CURRENT: dict[str, str] = {"enterprise_id": ""}


@cache
def build_schema(filing_type: str, period: str) -> Any:
    """A pandera DataFrameSchema of a filing type for one period, every check named ``<rule_id>|<column>``."""
    from pipelines.contracts import load_contracts

    contract = load_contracts()[filing_type]
    import pandas as pd
    import pandera.pandas as pa

    from pipelines.quality.uscc import is_valid as uscc_valid

    start, end = _period_bounds(period)

    def check(rule: str, col: str, fn: Callable[[pd.Series], pd.Series]) -> pa.Check:
        return pa.Check(fn, name=f"{rule}|{col}")

    columns: dict[str, pa.Column] = {}
    frame_checks: list[pa.Check] = []
    for c in contract.columns:
        checks: list[pa.Check] = []
        kind = c.kind
        if kind.syntax:
            rx = kind.syntax
            if c.type in ("date", "timestamp"):
                checks.append(
                    check(
                        "S015",
                        c.name,
                        lambda s, rx=rx, k=c.type: s.str.fullmatch(rx).fillna(False) & _days(s, k).notna(),
                    )
                )
            else:
                checks.append(check("S015", c.name, lambda s, rx=rx: s.str.fullmatch(rx).fillna(False)))
        if c.values:
            checks.append(check("V004", c.name, lambda s, v=list(c.values): s.isin(v)))
        if c.min is not None or c.min_exclusive is not None or c.max is not None:

            def within_bounds(s: pd.Series, lo=c.min, lo_x=c.min_exclusive, hi=c.max) -> pd.Series:
                x = pd.to_numeric(s, errors="coerce")  # unparsable: S015's
                ok = x.isna()
                good = pd.Series(True, index=s.index)
                if lo_x is not None:
                    good &= x > lo_x
                elif lo is not None:
                    good &= x >= lo
                if hi is not None:
                    good &= x <= hi
                return ok | good

            checks.append(check("V005", c.name, within_bounds))
        if kind.validity:
            from pipelines.quality.suites import FORMAT_RULES

            checks.append(
                check(
                    FORMAT_RULES[c.type],
                    c.name,
                    lambda s, rx=kind.validity: s.str.contains(rx, regex=True).fillna(False),
                )
            )
        if c.type == "text":
            checks.append(check("V010", c.name, lambda s: s.str.len() <= TEXT_MAX_LENGTH))
            checks.append(check("V011", c.name, lambda s: s == s.str.strip(" ")))
        if c.name == "enterprise_id":
            checks.append(check("V013", c.name, lambda s: s == CURRENT["enterprise_id"]))
        if c.in_period or c.not_after_period_end or c.period_end:
            day = c.type if c.type in ("date", "timestamp") else "date"

            def dated(s: pd.Series, c=c, day=day) -> pd.Series:
                d = _days(s, day)
                bad = pd.Series(False, index=s.index)
                if c.in_period:
                    bad |= (d < start) | (d > end)
                if c.not_after_period_end:
                    bad |= d > end
                if c.period_end:
                    bad |= d != end
                return ~(bad & d.notna())

            rule = "V014" if c.in_period else "V015" if c.not_after_period_end else "V016"
            checks.append(check(rule, c.name, dated))
        if c.format == "uscc":
            checks.append(
                pa.Check(uscc_valid, element_wise=True, name=f"V022|{c.name}")  # Python per value
            )
        if c.required_when:
            frame_checks.append(
                pa.Check(
                    lambda df, c=c: ~(sql_mask(c.required_when, df) & df[c.name].isna()),
                    name=f"V002|{c.name}",
                )
            )
        if c.null_unless:
            frame_checks.append(
                pa.Check(
                    lambda df, c=c: ~(~sql_mask(c.null_unless, df) & df[c.name].notna()),
                    name=f"V003|{c.name}",
                )
            )
        columns[c.name] = pa.Column(
            pd.StringDtype(na_value=float("nan")),
            nullable=not c.always_required,
            required=True,
            checks=checks,
        )
    return pa.DataFrameSchema(
        columns,
        checks=frame_checks,
        strict=True,
        unique=list(contract.key),
        name=contract.filing_type,
    )


# --------------------------------------------------------------------------------------------------
# Route (a): pandas + pandera
# --------------------------------------------------------------------------------------------------


def _rule_of(row: Any) -> str:
    name = str(row["check"])
    if "|" in name:
        return name.split("|", 1)[0]
    if name == "not_nullable":
        return "V001"
    if name in ("column_in_schema", "column_in_dataframe", "column_ordered"):
        return "S014"
    if (
        name.startswith("field_uniqueness")
        or name.startswith("multiple_fields_uniqueness")
        or "unique" in name
    ):
        return "V012"
    return f"other:{name}"


def run_pandas(landing: Path) -> dict:
    import gzip
    import zlib

    import pandas as pd
    import pandera.pandas as pa

    import pipelines.quality.suites  # noqa: F401 - imports GX (FORMAT_RULES' module): outside the clock
    import pipelines.quality.uscc  # noqa: F401

    findings: Counter[str] = Counter()
    flagged: dict[str, set[str]] = {}
    rows = files = 0
    t_read = t_validate = 0.0

    def flag(rule: str, sid: str, ft: str, n: int = 1) -> None:
        findings[rule] += n
        flagged.setdefault(rule, set()).add(f"{sid}/{ft}")

    start = time.perf_counter()
    for manifest_path in sorted(landing.glob("*/*/manifest.json")):
        m = json.loads(manifest_path.read_text(encoding="utf-8"))
        sid, ent, period = m["submission_id"], m["enterprise_id"], m["period"]
        for f in m["files"]:
            ft = f["filing_type"]
            path = manifest_path.parent / f["path"]
            if not path.is_file():
                flag("S007", sid, ft)
                continue
            files += 1
            t0 = time.perf_counter()
            h = hashlib.sha256()
            with path.open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
            if h.hexdigest() != f.get("sha256"):
                flag("S009", sid, ft)
            try:
                df = pd.read_csv(
                    path,
                    dtype=str,
                    keep_default_na=False,
                    na_values=[""],
                    compression="gzip" if f.get("compression") == "gzip" else None,
                    encoding=f.get("encoding", "utf-8"),
                )
            except UnicodeDecodeError:
                flag("S013", sid, ft)
                continue
            except (gzip.BadGzipFile, zlib.error, EOFError, pd.errors.ParserError, pd.errors.EmptyDataError):
                flag("S012", sid, ft)
                continue
            t_read += time.perf_counter() - t0
            t0 = time.perf_counter()
            rows += len(df)
            if f.get("row_count") is not None and len(df) != f["row_count"]:
                flag("S010", sid, ft)
            for col, stated in (f.get("control_totals") or {}).items():
                if col in df.columns:
                    total = pd.to_numeric(df[col], errors="coerce").sum()
                    if abs(round(float(total), 2) - float(stated)) > 0.005:
                        flag("S011", sid, ft)
            schema = build_schema(ft, period)
            CURRENT["enterprise_id"] = ent
            try:
                schema.validate(df, lazy=True)
            except pa.errors.SchemaErrors as e:
                fc = e.failure_cases
                rules = fc.apply(_rule_of, axis=1)
                for rule, group in fc.groupby(rules):
                    if rule == "V012":  # one failure case per column of each duplicated row
                        n = group["index"].nunique()
                    else:
                        n = len(group)
                    flag(str(rule), sid, ft, int(n))
            t_validate += time.perf_counter() - t0
            del df
    elapsed = time.perf_counter() - start
    return {
        "elapsed_s": elapsed,
        "read_s": t_read,
        "validate_s": t_validate,
        "files": files,
        "rows": rows,
        "findings": dict(sorted(findings.items())),
        "files_flagged": {r: sorted(v) for r, v in sorted(flagged.items())},
    }


# --------------------------------------------------------------------------------------------------
# Route (b): the project's intake (S rules + typed load, then the V stage)
# --------------------------------------------------------------------------------------------------


def run_intake(root: Path) -> dict:
    from pipelines.home import Home
    from pipelines.intake import lifecycle
    from pipelines.intake.service import take_in
    from pipelines.quality.validity import run_validity_stage
    from pipelines.warehouse.db import connect_writer, writer_lock

    home = Home.resolve(root).ensure()
    clock = datetime.now(UTC)
    start = time.perf_counter()
    with writer_lock(home), connect_writer(home) as con:
        take_in(con, home, clock=clock, backfill=True)
        t_intake = time.perf_counter() - start
        pending = lifecycle.pending_submissions(con)
        run_validity_stage(con, home.warehouse, pending, found_at=clock)
        elapsed = time.perf_counter() - start
        findings: dict[str, int] = {}
        for rule, n in con.execute(
            "select rule_id, count(*) from quality.findings where stage = 'S' group by 1"
        ).fetchall():
            findings[rule] = int(n)
        for rule, n in con.execute(
            "select rule_id, sum(finding_count) from quality.rule_results "
            "where rule_id like 'V%' and finding_count > 0 group by 1"
        ).fetchall():
            findings[rule] = int(n)
        flagged: dict[str, list[str]] = {}
        for rule, items in con.execute(
            "select rule_id, list(distinct submission_id || '/' || coalesce(filing_type, '-') order by 1) "
            "from quality.findings where stage in ('S', 'V') group by 1"
        ).fetchall():
            flagged[rule] = list(items)
        statuses = dict(
            con.execute("select status, count(*) from intake.submissions group by 1 order by 1").fetchall()
        )
        rows = 0
        from pipelines.contracts import load_contracts

        for ft in load_contracts():
            rows += con.execute(f"select count(*) from raw.{ft}").fetchone()[0]
    return {
        "elapsed_s": elapsed,
        "take_in_s": t_intake,
        "validity_s": elapsed - t_intake,
        "rows": rows,
        "statuses": statuses,
        "findings": dict(sorted(findings.items())),
        "files_flagged": dict(sorted(flagged.items())),
    }


# --------------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------------


def _child(route: str, target: Path, out: Path) -> None:
    warnings.filterwarnings("ignore")
    result = run_pandas(target) if route == "pandas" else run_intake(target)
    out.write_text(json.dumps(result))
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown (duckdb's nanobind prints leak reports at exit)


def _measure(route: str, target: Path, out: Path) -> dict:
    cmd = [sys.executable, "-m", "bench.pandera_checks", "--child", route, str(target), str(out)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    with TreeSampler(proc.pid) as sampler:
        _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{route} child failed ({status})")
    result = json.loads(out.read_text())
    result["process_wall_s"] = time.perf_counter() - t0
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024)
    result["peak_rss_tree_mb"] = round(sampler.peak_kb / 1024)
    return result


def ensure_landing(home: Path, preset: str, seed: int) -> Path:
    landing = home / "landing"
    if not any(landing.glob("*/*/manifest.json")):
        from pipelines.synth import generate

        generate(landing, home / "truth" / f"truth-{preset}-{seed}.jsonl", preset=preset, seed=seed, months=1)
    return landing


def _fmt_rules(counts: dict[str, int]) -> str:
    return ", ".join(f"{r} {n:,}" for r, n in counts.items()) or "none"


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--home", type=Path, default=DEFAULT_HOME, help="where the month's packages are (landing/)"
    )
    ap.add_argument("--preset", default="medium", help="generated if the home has no packages")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temp dir)")
    ap.add_argument(
        "--json", type=Path, default=None, help="result file (default: <home>/pandera_checks.json)"
    )
    args = ap.parse_args()
    landing = ensure_landing(args.home, args.preset, args.seed)
    n_packages = len(list(landing.glob("*/*/manifest.json")))
    scratch = Path(tempfile.mkdtemp(prefix="bench-pandera-", dir=args.work))
    runs: dict[str, list[dict]] = {"pandas": [], "intake": []}
    out = args.json or args.home / "pandera_checks.json"
    try:
        for r in range(args.repeat):
            copy = scratch / f"intake{r}"
            shutil.copytree(landing, copy / "landing")  # untimed: the intake moves packages to its archive
            runs["pandas"].append(_measure("pandas", landing, scratch / f"pandas{r}.json"))
            runs["intake"].append(_measure("intake", copy, scratch / f"intake{r}.json"))
            shutil.rmtree(copy, ignore_errors=True)
            print(
                f"repetition {r + 1}: pandas+pandera {runs['pandas'][-1]['elapsed_s']:.1f} s, "
                f"intake {runs['intake'][-1]['elapsed_s']:.1f} s",
                file=sys.stderr,
            )
            result = summarize(runs, args.home, n_packages)
            out.write_text(
                json.dumps(result, indent=2)
            )  # after each repetition: a cut-short run keeps its data
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print_table(result, out)


def summarize(runs: dict[str, list[dict]], home: Path, n_packages: int) -> dict:
    def med(route: str, key: str) -> float:
        return statistics.median(x[key] for x in runs[route])

    p, i = runs["pandas"][-1], runs["intake"][-1]
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "home": str(home),
        "packages": n_packages,
        "repeat": len(runs["pandas"]),
        "pandas_pandera": {
            "median_s": round(med("pandas", "elapsed_s"), 1),
            "median_read_s": round(med("pandas", "read_s"), 1),
            "median_validate_s": round(med("pandas", "validate_s"), 1),
            "peak_rss_mb": max(x["peak_rss_mb"] for x in runs["pandas"]),
            "peak_rss_tree_mb": max(x["peak_rss_tree_mb"] for x in runs["pandas"]),
            "times_s": [round(x["elapsed_s"], 1) for x in runs["pandas"]],
            "files": p["files"],
            "rows": p["rows"],
            "findings": p["findings"],
            "files_flagged": p["files_flagged"],
        },
        "intake": {
            "median_s": round(med("intake", "elapsed_s"), 1),
            "median_take_in_s": round(med("intake", "take_in_s"), 1),
            "median_validity_s": round(med("intake", "validity_s"), 1),
            "peak_rss_mb": max(x["peak_rss_mb"] for x in runs["intake"]),
            "peak_rss_tree_mb": max(x["peak_rss_tree_mb"] for x in runs["intake"]),
            "times_s": [round(x["elapsed_s"], 1) for x in runs["intake"]],
            "rows": i["rows"],
            "statuses": i["statuses"],
            "findings": i["findings"],
            "files_flagged": i["files_flagged"],
        },
    }


def print_table(result: dict, out: Path) -> None:
    pr, ir, n = result["pandas_pandera"], result["intake"], result["repeat"]
    print(
        f"{result['packages']} packages, {pr['rows']:,} rows read by pandas, {ir['rows']:,} loaded by the intake"
    )
    print()
    print(f"| route | median of {n} | of it | peak RSS (process / tree) |")
    print("|---|---|---|---|")
    print(
        f"| pandas `read_csv(dtype=str)` + pandera schema from the contracts | {pr['median_s']:.1f} s | "
        f"read {pr['median_read_s']:.1f} s, validate {pr['median_validate_s']:.1f} s | "
        f"{pr['peak_rss_mb']:,} / {pr['peak_rss_tree_mb']:,} MB |"
    )
    print(
        f"| the intake (`take_in` + `run_validity_stage`) | {ir['median_s']:.1f} s | "
        f"take_in {ir['median_take_in_s']:.1f} s, V stage {ir['median_validity_s']:.1f} s | "
        f"{ir['peak_rss_mb']:,} / {ir['peak_rss_tree_mb']:,} MB |"
    )
    print()
    print(f"Findings, pandas + pandera: {_fmt_rules(pr['findings'])}")
    print(f"Findings, intake: {_fmt_rules(ir['findings'])}")
    print(f"Intake statuses: {ir['statuses']}")
    print(f"Result: {out}")


if __name__ == "__main__":
    main()
