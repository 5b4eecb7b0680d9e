"""`make bench`: the monthly step at a scale, measured against DuckDB's raw load of the same month, same run.

    .venv/bin/python -m bench.harness --scale small [--root DIR] [--seed 1] [--keep]
    make bench BENCH_SCALE=medium BENCH_ROOT=/work/bench-runs

Steps (each cycle runs as its own `suptech run` process, so its peak memory is its own):

1. free disk under --root is checked against the estimated footprint of the run (refused when short);
2. the market is generated (`suptech synth`, clean: no injected cases): wall time and peak RSS;
3. the last month's packages are held back; the months before it are taken in by a backfill cycle
   (`suptech run --backfill`), so the warehouse holds them;
4. the raw-load floor: one DuckDB `create table … as select * from read_csv(<glob>, columns = {explicit
   types})` per filing type over all of the last month's files of that type, into a fresh DuckDB file with
   the warehouse's memory_limit and threads — run before and after the monthly step, the mean is the floor;
5. the monthly step: the last month's packages go back into the landing area and one cycle takes them
   in (intake, validity, dbt build, reports, publish): wall time, peak RSS of the process tree, each
   stage's share, ratio to the floor (P2 asks <= 8 at `national`), and P1's ratio (floor / intake+validity);
6. the footprint of the home (landing, archive, warehouse, published, ...).

Prints a Markdown block for docs/benchmarks.md (date, commit, machine, load average, command, one row per
target) and writes it with the JSON to <root>/bench-<scale>-<seed>.{md,json}. The home is deleted
afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from bench.treemem import measure
from pipelines.contracts import load_contracts
from pipelines.home import Home
from pipelines.synth.presets import PRESETS
from pipelines.warehouse.settings import resolve

REPO = Path(__file__).resolve().parent.parent
SUPTECH = [str(Path(sys.executable).with_name("suptech"))]
# Bytes on disk per transaction leg (of the preset's nominal legs per month x months) of the whole home at
# its largest (archive, warehouse, both snapshots, reports; the floor's files are hard links): 2.87 GB for
# `small`'s 4 x 1M, about 720 (docs/benchmarks.md, 2026-12-07), plus a margin. The check asks for this much
# free space before it starts.
BYTES_PER_LEG = 900
GIB = 1024**3


class NotEnoughDisk(RuntimeError):
    pass


def estimate_bytes(scale: str, enterprises: int | None, months: int | None) -> int:
    p = PRESETS[scale]
    n_ent = enterprises if enterprises is not None else p.enterprises
    n_months = months if months is not None else p.months
    return int(p.legs_per_month * n_ent / p.enterprises * n_months * BYTES_PER_LEG)


def check_disk(root: Path, needed: int) -> int:
    root.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(root).free
    if free < needed:
        raise NotEnoughDisk(
            f"{root}: {free / GIB:.1f} GiB free, the run needs about {needed / GIB:.1f} GiB "
            f"({BYTES_PER_LEG} bytes per transaction leg); free space or choose --root elsewhere "
            "(--min-free-gb overrides the estimate)"
        )
    return free


def du(path: Path) -> int:
    """Bytes allocated under path (hard links counted once), like `du -s --block-size=1`."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
    return total


def _packages(landing: Path, period: str) -> list[Path]:
    return sorted(p for p in landing.glob(f"*/*-{period}-v*") if p.is_dir())


def _latest_mtime(folders: list[Path]) -> datetime:
    stamps = [(f / "manifest.json").stat().st_mtime for f in folders if (f / "manifest.json").exists()]
    return datetime.fromtimestamp(max(stamps), UTC)


def raw_load(folder: Path, db: Path, warehouse_settings) -> dict:
    """One read_csv per filing type over every file of that type under folder (glob, explicit types)."""
    contracts = load_contracts()
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    rows: dict[str, int] = {}
    try:
        con.execute(f"set memory_limit = '{warehouse_settings.memory_limit}'")
        con.execute(f"set threads = {warehouse_settings.threads}")
        con.execute("set enable_progress_bar = false")
        start = time.perf_counter()
        for ft, contract in contracts.items():
            pattern = folder / "*" / f"{ft}.csv*"
            if not any(folder.glob(f"*/{ft}.csv*")):
                continue
            cols = "{" + ", ".join(f"'{c.name}': '{c.duckdb_type}'" for c in contract.columns) + "}"
            n = con.execute(
                f"create table {ft} as select * from read_csv(?, header = true, columns = {cols})",
                [str(pattern)],
            ).fetchone()
            rows[ft] = int(n[0]) if n else 0
        elapsed = time.perf_counter() - start
    finally:
        con.close()
        db.unlink(missing_ok=True)
    return {"seconds": round(elapsed, 2), "rows": rows}


def _cycle(
    home: Path, as_of: datetime, no_marts: bool, env: dict[str, str], *, backfill: bool = True
) -> dict:
    """One `suptech run` in its own process (wall, CPU, peak RSS), with the stage timings and status
    counts of its --json report (kept beside the home: `report`). backfill=False: received_at is the clock."""
    out = home.parent / f"cycle-{as_of:%Y%m%dT%H%M}.json"
    cmd = [*SUPTECH, "run", "--home", str(home), *(["--backfill"] if backfill else [])]
    cmd += ["--as-of", as_of.isoformat(), "--json"]
    if no_marts:
        cmd.append("--no-marts")
    with open(out, "w") as fh:
        m = measure(cmd, stdout=fh, env=env)
    if m["exit"] != 0:
        raise RuntimeError(f"cycle failed ({m['command']}); see {out}")
    report = json.loads(out.read_text())
    return {
        **m,
        "timings_s": report.get("timings_s", {}),
        "counts": report.get("counts", {}),
        "report": str(out),
    }


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB
    return (
        f"{os.cpu_count()} cores, {mem:.0f} GiB RAM, Python {platform.python_version()}, "
        f"duckdb {duckdb.__version__}"
    )


def begin(args: argparse.Namespace, name: str, module: str) -> tuple[Path, Home, dict[str, str], dict]:
    """The free-disk check, a fresh work folder <root>/<name>-<scale>-<seed> with its home, the
    environment of the measured commands, and the result's header (date, commit, machine, command)."""
    root = Path(args.root).resolve()
    needed = (
        int(args.min_free_gb * GIB)
        if args.min_free_gb is not None
        else estimate_bytes(args.scale, args.enterprises, args.months)
    )
    free = check_disk(root, needed)
    started = datetime.now(UTC)
    work = root / f"{name}-{args.scale}-{args.seed}"
    if work.exists():
        shutil.rmtree(work)
    home = Home.resolve(work / "home").ensure()
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false", "DAGSTER_DISABLE_TELEMETRY": "true"}
    settings = resolve(home.warehouse)
    result: dict = {
        "scale": args.scale,
        "seed": args.seed,
        "enterprises": args.enterprises,
        "months": args.months,
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "started": started.isoformat(),
        "commit": os.environ.get("BENCH_COMMIT") or _git("rev-parse", "--short", "HEAD"),
        "uncommitted_changes": _git("status", "--porcelain", "--untracked-files=no") not in ("", "unknown"),
        "machine": machine(),
        "duckdb_settings": {"memory_limit": settings.memory_limit, "threads": settings.threads},
        "free_disk_gib": round(free / GIB, 1),
        "needed_disk_gib": round(needed / GIB, 1),
        "command": " ".join([f"python -m {module}", *sys.argv[1:]]),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }
    return work, home, env, result


def end(result: dict) -> None:
    result["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    started = datetime.fromisoformat(result["started"])
    result["wall_s"] = round((datetime.now(UTC) - started).total_seconds(), 1)


def generate(home: Home, work: Path, args: argparse.Namespace, env: dict[str, str]) -> dict:
    """`suptech synth --inject none` at the scale (a clean market) in its own process; its periods."""
    synth = [*SUPTECH, "synth", "--home", str(home.root), "--preset", args.scale, "--seed", str(args.seed)]
    synth += ["--inject", "none"]
    if args.enterprises is not None:
        synth += ["--enterprises", str(args.enterprises)]
    if args.months is not None:
        synth += ["--months", str(args.months)]
    with open(work / "synth.log", "w") as fh:
        gen = measure(synth, stdout=fh, env=env)
    if gen["exit"] != 0:
        raise RuntimeError(f"generation failed: {gen['command']}")
    periods = sorted({p.name.rsplit("-v", 1)[0][-7:] for p in home.landing.glob("*/*-v*")})
    if len(periods) < 2:
        raise ValueError("the benchmark needs at least two months")
    return {**gen, "periods": periods}


def run(args: argparse.Namespace) -> dict:
    work, home, env, result = begin(args, "bench", "bench.harness")
    settings = resolve(home.warehouse)
    try:
        gen = generate(home, work, args, env)
        periods = gen.pop("periods")
        result["generate"] = gen
        last = periods[-1]
        result["periods"] = periods
        held, floor = work / "held", work / "floor"
        held.mkdir()
        month = _packages(home.landing, last)
        for pkg in month:
            pkg.rename(held / pkg.name)
        before = sorted(p for p in home.landing.glob("*/*-v*") if p.is_dir())
        as_of_1 = _latest_mtime(before) + timedelta(days=1)
        result["backfill"] = _cycle(home.root, as_of_1, args.no_marts, env)

        # the month's files, hard-linked (the intake moves the landing copies into the archive)
        shutil.copytree(held, floor, copy_function=os.link)
        for pkg in sorted(held.iterdir()):
            pkg.rename(home.landing / pkg.name.split("-", 1)[0] / pkg.name)
        held.rmdir()
        result["month_files"] = sum(1 for p in floor.glob("*/*.csv*"))
        result["month_bytes"] = du(floor)
        floors = [raw_load(floor, work / "floor.duckdb", settings)]
        as_of_2 = max(as_of_1, _latest_mtime(_packages(home.landing, last)) + timedelta(days=1))
        step = _cycle(home.root, as_of_2, args.no_marts, env)
        floors.append(raw_load(floor, work / "floor.duckdb", settings))
        result["raw_load"] = floors
        result["monthly_step"] = step
        result["footprint"] = {
            name: du(home.root / name)
            for name in ("landing", "archive", "warehouse", "published", "reports", "dbt", "tmp")
            if (home.root / name).exists()
        }
        result["footprint"]["home"] = du(home.root)
    finally:
        end(result)
        if not args.keep:
            shutil.rmtree(work / "home", ignore_errors=True)
            shutil.rmtree(work / "floor", ignore_errors=True)
            shutil.rmtree(work / "held", ignore_errors=True)
    return result


def markdown(r: dict) -> str:
    scale = r["scale"] + (f" ({r['enterprises']} enterprises)" if r.get("enterprises") else "")
    floor = statistics.mean(f["seconds"] for f in r["raw_load"])
    step = r["monthly_step"]
    t = step["timings_s"]
    intake = t.get("intake", 0.0) + t.get("validity", 0.0)
    shares = ", ".join(f"{k} {v:.0f} s ({v / step['wall_s']:.0%})" for k, v in t.items())
    legs = r["raw_load"][0]["rows"].get("transactions", 0)
    gen = r["generate"]
    fp = r["footprint"]
    lines = [
        f"### `{scale}` — {r['date']}, commit {r['commit']}"
        + (" (with uncommitted changes)" if r["uncommitted_changes"] else ""),
        "",
        f"`{r['command']}` — machine: {r['machine']}; DuckDB memory_limit {r['duckdb_settings']['memory_limit']}, "
        f"threads {r['duckdb_settings']['threads']}; load average at start {r['load_average_start'][0]:.1f} "
        f"(1 min) / {r['load_average_start'][1]:.1f} (5 min), at end {r['load_average_end'][0]:.1f} / "
        f"{r['load_average_end'][1]:.1f}; harness wall time {r['wall_s']:.0f} s. Months {', '.join(r['periods'])}: "
        f"the warehouse holds the months before {r['periods'][-1]}, the step takes in {r['periods'][-1]} "
        f"({r['month_files']} files, {r['month_bytes'] / 1e6:,.0f} MB, {legs:,} transaction legs).",
        "",
        "| target | scale | figure | goal | detail |",
        "|---|---|---|---|---|",
        f"| raw-load floor | {scale} | {floor:.1f} s | — | one `read_csv` per filing type over the month's files "
        f"(glob, explicit types), before / after the step: {r['raw_load'][0]['seconds']:.1f} s / "
        f"{r['raw_load'][1]['seconds']:.1f} s |",
        f"| P1 | {scale} | {floor / intake:.2f} | ≥ 0.5 | raw-load floor / (intake + validity stages of the "
        f"step: {intake:.1f} s) |"
        if intake
        else f"| P1 | {scale} | — | ≥ 0.5 | no intake timing |",
        f"| P2 | {scale} | {step['wall_s']:.0f} s, {step['wall_s'] / floor:.1f} × the floor, peak RSS "
        f"{step['peak_rss_tree_mb']:,} MB | ≤ 10 min, ≤ 8 ×, ≤ 12 GB (at `national`) | monthly step "
        f"(`suptech run`): {shares} |",
        f"| backfill | {scale} | {r['backfill']['wall_s']:.0f} s, peak RSS {r['backfill']['peak_rss_tree_mb']:,} MB "
        f"| — | the months before, one cycle (not a target; sets up the warehouse) |",
        f"| generator | {scale} | {gen['wall_s']:.0f} s, peak RSS {gen['peak_rss_tree_mb']:,} MB (all processes), "
        f"{gen['peak_rss_largest_process_mb']:,} MB (largest) | bounded | `suptech synth --inject none` |",
        f"| footprint | {scale} | {fp['home'] / GIB:.2f} GiB | ≤ 40 GB for 3 `national` months | "
        + ", ".join(f"{k} {v / GIB:.2f}" for k, v in fp.items() if k != "home")
        + f" GiB; free before: {r['free_disk_gib']} GiB, estimate asked {r['needed_disk_gib']} GiB |",
    ]
    return "\n".join(lines) + "\n"


def arguments(description: str) -> argparse.ArgumentParser:
    """The options every benchmark of this kind takes (scale, market size, root, disk, smoke, keep)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--scale", default="small", choices=sorted(PRESETS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--enterprises", type=int, default=None)
    ap.add_argument("--months", type=int, default=None)
    ap.add_argument("--root", default=os.environ.get("BENCH_ROOT", str(REPO.parent / "bench-runs")))
    ap.add_argument(
        "--min-free-gb", type=float, default=None, help="free disk asked for (default: estimated)"
    )
    ap.add_argument(
        "--no-marts", action="store_true", help="cycles stop after intake and validity (smoke runs)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the home afterwards")
    return ap


def write_results(base: Path, r: dict, md: str) -> None:
    """<base>.json and <base>.md, and the Markdown on stdout."""
    base.with_suffix(".json").write_text(json.dumps(r, indent=2) + "\n")
    base.with_suffix(".md").write_text(md)
    print(md)


def command(
    argv: list[str] | None,
    doc: str,
    measure: Callable[[argparse.Namespace], dict],
    render: Callable[[dict], str],
    prefix: str,
    ok: Callable[[dict], bool] = lambda r: True,
) -> int:
    """A benchmark command: parse the arguments, measure, write <root>/<prefix>-<scale>-<seed>.{json,md};
    exit 2 when the disk is short, 1 when `ok` rejects the result."""
    args = arguments(doc.split("\n\n")[0]).parse_args(argv)
    try:
        r = measure(args)
    except NotEnoughDisk as e:
        print(f"bench: {e}", file=sys.stderr)
        return 2
    write_results(Path(args.root).resolve() / f"{prefix}-{args.scale}-{args.seed}", r, render(r))
    return 0 if ok(r) else 1


def main(argv: list[str] | None = None) -> int:
    return command(argv, __doc__, run, markdown, "bench")


if __name__ == "__main__":
    sys.exit(main())
