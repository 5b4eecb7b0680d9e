"""`make bench-resubmission` (issue 13): one enterprise's corrected resubmission after a full backfill,
measured against that backfill in the same run.

    .venv/bin/python -m bench.resubmission --scale small [--root DIR] [--seed 1] [--keep]
    make bench-resubmission BENCH_SCALE=small BENCH_ROOT=/work/bench-runs

Steps (each cycle is its own `suptech run` process, measured as bench/harness.py measures it: wall time,
peak RSS of the process tree, each stage's seconds):

1. free disk under --root is checked (the harness's estimate), a clean market is generated (`suptech synth
   --inject none`);
2. the backfill: one cycle over all the months (`suptech run --backfill`), as of a day after the last
   period's close, so the home holds every month, closed;
3. an idle cycle (`suptech run` with nothing new, half a day later): what most daily runs are; its
   publication fills the auditors' second snapshot slot (pipelines/warehouse/auditor_slots.py), so the
   resubmission's publication updates a slot in place as every later one does;
4. the resubmission: the first enterprise (by id) with complaints in the second-to-last month files v2 of
   that month, a complete package copied from its archived v1 with one complaint's `issue` text
   corrected (manifest: submission_id <ent>-<period>-v2, version 2, supersedes v1, the file's sha256
   recomputed), dropped in the landing area; one `suptech run` (not a backfill: received_at is the clock,
   a day after the backfill's) takes it in. The v2 must be accepted and v1 superseded;
5. R-resub = resubmission wall / backfill wall (issue 13 asks <= 0.1 at `small`).

Writes Markdown rows (date, commit, machine, load average, command) and the JSON to
<root>/bench-resub-<scale>-<seed>.{md,json}; exits 1 when the v2 was not accepted. The home is deleted
afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from bench.harness import _cycle, _latest_mtime, begin, command, end, generate
from pipelines.calendar import SHANGHAI, close_at, ent_type_of

TARGET = 0.1  # issue 13: the resubmission takes at most a tenth of the backfill's time (at `small`)
ACCEPTED = ("ACCEPTED", "ACCEPTED_WITH_WARNINGS")
CORRECTION = " (corrected in v2)"


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def pick_enterprise(landing: Path, period: str) -> str:
    """The first enterprise (by id) whose v1 of `period` files at least one complaint."""
    for m in sorted(landing.glob(f"*/*-{period}-v1/manifest.json")):
        manifest = json.loads(m.read_text(encoding="utf-8"))
        if any(f["filing_type"] == "complaints" and f["row_count"] > 0 for f in manifest["files"]):
            return manifest["enterprise_id"]
    raise ValueError(f"no enterprise files a complaint for {period}: nothing to correct")


def _correct_complaint(path: Path, compression: str, encoding: str) -> str:
    """Append CORRECTION to the first complaint's `issue`, in place; the complaint's id."""
    data = path.read_bytes()
    text = (gzip.decompress(data) if compression == "gzip" else data).decode(encoding)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    col = rows[0].index("issue")
    rows[1][col] += CORRECTION
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n").writerows(rows)
    raw = buf.getvalue().encode(encoding)
    path.write_bytes(gzip.compress(raw, mtime=0) if compression == "gzip" else raw)
    return rows[1][rows[0].index("complaint_id")]


def build_v2(v1: Path, landing: Path, build: Path, delivered: datetime) -> dict:
    """v2 of the archived package v1 with one complaint corrected, into landing/<ent>/<ent>-<period>-v2/
    (built under `build`, manifest last, then moved in whole); what changed."""
    manifest = _manifest(v1)
    ent, period = manifest["enterprise_id"], manifest["period"]
    sid = f"{ent}-{period}-v2"
    folder = build / sid
    folder.mkdir(parents=True)
    for f in manifest["files"]:
        shutil.copyfile(v1 / f["path"], folder / f["path"])
    entry = next(f for f in manifest["files"] if f["filing_type"] == "complaints")
    complaint = _correct_complaint(
        folder / entry["path"], entry.get("compression", "none"), entry.get("encoding", "utf-8")
    )
    entry["sha256"] = hashlib.sha256((folder / entry["path"]).read_bytes()).hexdigest()
    manifest.update(
        submission_id=sid,
        version=2,
        supersedes=manifest["submission_id"],
        submitted_at=delivered.astimezone(SHANGHAI).isoformat(timespec="seconds"),
    )
    tmp = folder / ".manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.rename(folder / "manifest.json")
    stamp = delivered.timestamp()
    for p in folder.iterdir():
        os.utime(p, (stamp, stamp))
    dest = landing / ent / sid
    dest.parent.mkdir(parents=True, exist_ok=True)
    folder.rename(dest)
    return {
        "enterprise": ent,
        "period": period,
        "submission_id": sid,
        "version": manifest["version"],
        "supersedes": manifest["supersedes"],
        "files": len(manifest["files"]),
        "bytes": sum((dest / f["path"]).stat().st_size for f in manifest["files"]),
        "change": f"complaints: {complaint}'s issue text + {CORRECTION.strip()!r}",
    }


def versions(warehouse: Path, ent: str, period: str) -> list[dict]:
    """Every version of ent x period (submission_id, version, status), from the warehouse after the cycle."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select submission_id, version, status from intake.submissions "
            "where enterprise_id = ? and period = ? order by version",
            [ent, period],
        ).fetchall()
    finally:
        con.close()
    return [{"submission_id": sid, "version": v, "status": st} for sid, v, st in rows]


def run(args: argparse.Namespace) -> dict:
    work, home, env, result = begin(args, "bench-resub", "bench.resubmission")
    try:
        gen = generate(home, work, args, env)
        periods = result["periods"] = gen.pop("periods")
        result["generate"] = gen
        period = periods[-2]
        ent = pick_enterprise(home.landing, period)
        enterprises = {p.parent.name for p in home.landing.glob("*/*-v*")}
        closed = max(close_at(ent_type_of(e), periods[-1]) for e in enterprises)
        packages = [p for p in home.landing.glob("*/*-v*") if p.is_dir()]
        as_of_1 = max(closed, _latest_mtime(packages)) + timedelta(days=1)
        result["backfill"] = {**_cycle(home.root, as_of_1, args.no_marts, env), "as_of": as_of_1.isoformat()}

        # a day with nothing new (most of a regulator's daily runs): the publication fills the second slot
        idle_at = as_of_1 + timedelta(hours=12)
        result["idle"] = {
            **_cycle(home.root, idle_at, args.no_marts, env, backfill=False),
            "as_of": idle_at.isoformat(),
        }
        as_of_2 = as_of_1 + timedelta(days=1)
        v1 = home.archive / ent / f"{ent}-{period}-v1" / "1"
        resub = build_v2(v1, home.landing, work / "build", as_of_2 - timedelta(hours=1))
        step = _cycle(home.root, as_of_2, args.no_marts, env, backfill=False)
        result["resubmission"] = {**resub, **step, "as_of": as_of_2.isoformat()}
        result["versions"] = versions(home.warehouse, ent, period)
        taken = [v for v in result["versions"] if v["submission_id"] == resub["submission_id"]]
        result["status"] = taken[0]["status"] if taken else "MISSING"
        result["ratio"] = round(step["wall_s"] / result["backfill"]["wall_s"], 3)
        result["target"] = TARGET
        result["meets_target"] = result["ratio"] <= TARGET
    finally:
        end(result)
        shutil.rmtree(work / "build", ignore_errors=True)
        if not args.keep:
            shutil.rmtree(work / "home", ignore_errors=True)
    return result


def _stages(step: dict) -> str:
    return ", ".join(f"{k} {v:.1f} s" for k, v in step["timings_s"].items())


def markdown(r: dict) -> str:
    scale = r["scale"] + (f" ({r['enterprises']} enterprises)" if r.get("enterprises") else "")
    bf, rs, gen, idle = r["backfill"], r["resubmission"], r["generate"], r["idle"]
    others = ", ".join(
        f"{v['submission_id']} {v['status']}"
        for v in r["versions"]
        if v["submission_id"] != rs["submission_id"]
    )
    lines = [
        f"### `{scale}` resubmission after a backfill — {r['date']}, commit {r['commit']}"
        + (" (with uncommitted changes)" if r["uncommitted_changes"] else ""),
        "",
        f"`{r['command']}` — machine: {r['machine']}; DuckDB memory_limit {r['duckdb_settings']['memory_limit']}, "
        f"threads {r['duckdb_settings']['threads']}; load average at start {r['load_average_start'][0]:.1f} "
        f"(1 min) / {r['load_average_start'][1]:.1f} (5 min), at end {r['load_average_end'][0]:.1f} / "
        f"{r['load_average_end'][1]:.1f}; benchmark wall time {r['wall_s']:.0f} s. The backfill takes in "
        f"{', '.join(r['periods'])} in one cycle as of {bf['as_of']} (after the last close); then "
        f"{rs['submission_id']} ({rs['change']}; {rs['files']} files, {rs['bytes'] / 1e6:,.1f} MB) in one "
        f"`suptech run` as of {rs['as_of']}.",
        "",
        "| target | scale | figure | goal | detail |",
        "|---|---|---|---|---|",
        f"| R-resub | {scale} | {r['ratio']:.3f} ({rs['wall_s']:.1f} s / {bf['wall_s']:.1f} s) | ≤ {r['target']} "
        f"| {rs['submission_id']} {r['status']}" + (f" ({others})" if others else "") + f"; resubmission "
        f"(`suptech run`), peak RSS {rs['peak_rss_tree_mb']:,} MB: {_stages(rs)} |",
        f"| backfill | {scale} | {bf['wall_s']:.1f} s, peak RSS {bf['peak_rss_tree_mb']:,} MB | — | all "
        f"{len(r['periods'])} months, one cycle (`suptech run --backfill`): {_stages(bf)} |",
        f"| idle cycle | {scale} | {idle['wall_s']:.1f} s, peak RSS {idle['peak_rss_tree_mb']:,} MB | — | nothing new "
        f"(`suptech run` as of {idle['as_of']}): {_stages(idle)} |",
        f"| generator | {scale} | {gen['wall_s']:.0f} s, peak RSS {gen['peak_rss_tree_mb']:,} MB | — | "
        "`suptech synth --inject none` |",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    return command(argv, __doc__, run, markdown, "bench-resub", ok=lambda r: r["status"] in ACCEPTED)


if __name__ == "__main__":
    sys.exit(main())
