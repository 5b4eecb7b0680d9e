"""The `suptech` command: synth, run, status, query, summary, plus the verbs in `pipelines/commands/`.

Every verb takes --home (default $SUPTECH_HOME, else ./var). Exit codes: 0 success, 1 the work failed
(message on stderr), 2 usage error.
"""

from __future__ import annotations

import json
import multiprocessing.util
import os
import sys
from pathlib import Path

import click
from rich.table import Table

from pipelines.commands import register_all
from pipelines.commands.common import err, home_option, out, parse_as_of, progress_bar
from pipelines.home import Home


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """SupTech Warehouse: take in enterprises' monthly filings, validate them and compute supervisory indicators.

    \b
    Start here:
      suptech synth --preset tiny && suptech run --backfill   # a synthetic market, one cycle
      suptech summary                                           # what it produced, report paths
      suptech report supervision --period 2026-10               # the period's supervision report
      suptech query "select * from marts.fct_alerts limit 20"   # SQL on the published snapshot

    Every verb takes --home (default $SUPTECH_HOME, else ./var); verbs read by scripts take --json.
    Exit codes: 0 success, 1 the work failed (message on stderr), 2 usage error.
    """


@cli.command()
@home_option
@click.option(
    "--preset", type=click.Choice(["tiny", "small", "medium", "national"]), default="tiny", show_default=True
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--inject",
    default="default",
    show_default=True,
    help="'default' (every implemented class), 'none' (a clean run) or a comma-separated list of classes.",
)
@click.option("--start-period", default="2026-07", show_default=True, help="First period (YYYY-MM).")
@click.option("--months", type=int, default=None, help="Number of months (default: the preset's).")
@click.option("--enterprises", type=int, default=None, help="Number of enterprises (default: the preset's).")
@click.option(
    "--truth",
    type=click.Path(dir_okay=False),
    default=None,
    help="Ground-truth file (default: <home>/truth/truth-<preset>-<seed>.jsonl).",
)
def synth(home_dir, preset, seed, inject, start_period, months, enterprises, truth) -> None:
    """Generate a synthetic economy's filings into the landing area.

    Example: suptech synth --preset tiny --seed 7
    """
    from pipelines.synth.run import generate

    home = Home.resolve(home_dir).ensure()
    truth_file = Path(truth) if truth else home.truth / f"truth-{preset}-{seed}.jsonl"
    injected = (
        inject if inject in ("default", "none") else [c.strip() for c in inject.split(",") if c.strip()]
    )
    with progress_bar(err.is_terminal) as update:
        summary = generate(
            home.landing,
            truth_file,
            preset=preset,
            seed=seed,
            inject=injected,
            start_period=start_period,
            months=months,
            enterprises=enterprises,
            progress=update,
        )
    out.print(f"wrote {summary.packages} packages to {home.landing}")
    out.print(f"ground truth: {truth_file}")


@cli.command()
@home_option
@click.option("--as-of", "as_of", default=None, help="The warehouse clock (ISO timestamp); default: now.")
@click.option(
    "--backfill", is_flag=True, help="Take in an archive of past deliveries: received_at = manifest mtime."
)
@click.option("--no-marts", is_flag=True, help="Stop after intake and validation (no dbt build).")
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Rebuild every partition of the incremental dbt models (default: only those that changed).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the cycle's result as JSON.")
def run(home_dir, as_of, backfill, no_marts, full_refresh, as_json) -> None:
    """Run one cycle: intake, validation, dbt models, publishing.

    Example: suptech run --backfill --as-of 2026-11-21T00:00:00Z
    """
    from pipelines.cycle import run_cycle

    home = Home.resolve(home_dir)
    with progress_bar(err.is_terminal and not as_json) as update:
        report = run_cycle(
            home,
            as_of=parse_as_of(as_of),
            backfill=backfill,
            build_marts=not no_marts,
            progress=update,
            full_refresh=full_refresh,
        )
    counts = report.status_counts
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "as_of": report.as_of.isoformat(),
                    "statuses": report.statuses,
                    "counts": counts,
                    "snapshot": str(report.snapshot),
                    "timings_s": report.timings,
                    "dbt_full_refresh": report.dbt_full_refresh,
                    "lake": {
                        "raw_folders": len(report.lake.raw_folders),
                        "partitions": len(report.lake.partitions),
                        "removed": len(report.lake.removed),
                    }
                    if report.lake
                    else None,
                }
            )
        )
        return
    out.print(
        f"cycle as of {report.as_of.isoformat()}: {len(report.statuses)} submissions "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    )
    out.print(
        f"warehouse: {home.warehouse}\nsnapshot:  {report.snapshot}\nedit reports: {home.reports / 'edit'}"
    )
    if report.lake is not None:
        out.print(
            f"lake:      {home.root / 'lake'} ({len(report.lake.raw_folders)} new submission folder(s), "
            f"{len(report.lake.partitions)} partition(s) written)"
        )


@cli.command()
@home_option
@click.option("--json", "as_json", is_flag=True)
def status(home_dir, as_json) -> None:
    """Submissions by status (from the published snapshot).

    Example: suptech status
    """
    from pipelines.warehouse.db import connect_reader

    home = Home.resolve(home_dir)
    con = connect_reader(home)
    try:
        rows = con.execute(
            "select status, count(*), count(distinct enterprise_id) from intake.submissions group by 1 order by 1"
        ).fetchall()
    finally:
        con.close()
    if as_json:
        out.print_json(json.dumps({r[0]: {"submissions": r[1], "enterprises": r[2]} for r in rows}))
        return
    table = Table("status", "submissions", "enterprises")
    for r in rows:
        table.add_row(str(r[0]), str(r[1]), str(r[2]))
    out.print(table)


@cli.command()
@home_option
@click.argument("sql")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json", "parquet"]),
    default="table",
    show_default=True,
    help="parquet needs --out.",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the result to this file instead of stdout.",
)
@click.option(
    "--limit", type=int, default=1000, show_default=True, help="Rows to print at most (table format)."
)
@click.option(
    "--as",
    "--snapshot",
    "kind",
    type=click.Choice(["analyst", "auditor"]),
    default="analyst",
    show_default=True,
    help="analyst: the pseudonymised snapshot; auditor: filed identifiers and raw rows (published/auditor.duckdb).",
)
def query(home_dir, sql, fmt, out_file, limit, kind) -> None:
    """Run read-only SQL on a published snapshot (never the live warehouse).

    The connection reads the snapshot only: no other file (read_csv, ATTACH, COPY TO), no extensions, no
    settings. Result files are written by this command, not by the SQL. See docs/security.md.

    \b
    Examples:
      suptech query "select * from marts.fct_alerts limit 10" --format csv
      suptech query "select * from marts.fct_indicator_values where period = '2026-10'" \\
          --format parquet --out values.parquet
      suptech query --as auditor "select * from raw.accounts limit 10"

    Exit codes: 0 ok, 1 the query failed or no snapshot is published, 2 usage error.
    """
    import polars as pl

    from pipelines.warehouse.db import connect_reader

    if fmt == "parquet" and out_file is None:
        raise click.UsageError("--format parquet writes a file: give --out FILE")
    home = Home.resolve(home_dir)
    con = connect_reader(home, kind)
    try:
        df = con.sql(sql).pl()
    except Exception as exc:  # noqa: BLE001 - the user's SQL: show DuckDB's message
        err.print(f"[red]query failed:[/red] {exc}")
        sys.exit(1)
    finally:
        con.close()
    if fmt == "parquet":
        df.write_parquet(out_file)
    elif fmt == "csv":
        _emit(df.write_csv(), out_file)
    elif fmt == "json":
        _emit(df.write_json() + "\n", out_file)
    else:
        with pl.Config(tbl_rows=limit, tbl_cols=-1, fmt_str_lengths=60, tbl_width_chars=200):
            _emit(f"{df.head(limit)}\n", out_file)
    if out_file is not None:
        err.print(f"wrote {df.height} rows to {out_file}")


def _emit(text: str, out_file: str | None) -> None:
    if out_file is None:
        sys.stdout.write(text)
    else:
        Path(out_file).write_text(text, encoding="utf-8")


def _find_table(con, name: str) -> str | None:
    row = con.execute(
        "select table_schema from information_schema.tables where table_name = ? order by table_schema limit 1",
        [name],
    ).fetchone()
    return f"{row[0]}.{name}" if row else None


@cli.command()
@home_option
@click.option("--json", "as_json", is_flag=True, help="Print counts and paths as JSON.")
def summary(home_dir, as_json) -> None:
    """What the last cycle produced and where to find it: submissions by status, alerts by indicator,
    the snapshot, the reports (supervision, quality, dbt docs, edit reports).

    Example: suptech summary --home var/demo
    """
    from pipelines.warehouse.db import connect_reader, snapshot_path

    home = Home.resolve(home_dir)
    con = connect_reader(home)
    try:
        statuses = con.execute(
            "select status, count(*) from intake.submissions group by 1 order by 2 desc"
        ).fetchall()
        alerts_table = _find_table(con, "fct_alerts")
        alerts = (
            con.execute(
                f"select indicator_id, severity, count(*) from {alerts_table} group by 1, 2 order by 1, 2"
            ).fetchall()
            if alerts_table
            else []
        )
    finally:
        con.close()
    reports = {
        kind: {p.stem: str(p) for p in sorted((home.reports / kind).glob("*.html"))}
        for kind in ("supervision", "quality")
    }
    docs = home.reports / "dbt_docs" / "static_index.html"
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "submissions_by_status": dict(statuses),
                    "alerts": [{"indicator_id": i, "severity": s, "alerts": n} for i, s, n in alerts],
                    "snapshot": str(snapshot_path(home)),
                    "auditor_snapshot": str(snapshot_path(home, "auditor")),
                    "reports": reports,
                    "dbt_docs": str(docs) if docs.exists() else None,
                    "edit_reports": str(home.reports / "edit"),
                }
            )
        )
        return
    table = Table("status", "submissions", title="Submissions by status")
    for s, n in statuses:
        table.add_row(s, str(n))
    out.print(table)
    table = Table("indicator", "severity", "alerts", title="Alerts by indicator")
    for ind, sev, n in alerts:
        table.add_row(ind, sev, str(n))
    out.print(table)
    out.print(f"warehouse (live, single writer): {home.warehouse}")
    out.print(f"analyst snapshot (pseudonymised): {snapshot_path(home)}")
    out.print(f"auditor snapshot (identifiers):   {snapshot_path(home, 'auditor')}")
    out.print(f"edit reports per submission:      {home.reports / 'edit'}")
    out.print(f"archive of delivered packages:    {home.archive}")
    for kind, paths in reports.items():
        for period, path in paths.items():
            out.print(f"{kind} report {period}:".ljust(34) + path, soft_wrap=True)
    if docs.exists():
        out.print(f"dbt docs (models, lineage):       {docs}", soft_wrap=True)
    example = alerts_table or "intake.submissions"
    out.print(f'try: suptech query --home {home.root} "select * from {example} limit 20"')


register_all(cli)


def main() -> None:
    """Entry point. Exits without interpreter teardown: GX's SQLAlchemy caches keep DuckDB's type objects
    alive until then, and nanobind would print spurious leak reports for them at shutdown."""
    code = 0
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except click.exceptions.Abort:
        err.print("aborted")
        code = 1
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except Exception as exc:  # noqa: BLE001 - one readable line instead of a traceback
        err.print(f"[red]error:[/red] {type(exc).__name__}: {exc}")
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # release dbt's semaphores as a normal exit would; typeshed's multiprocessing.util omits this private function
    multiprocessing.util._exit_function()  # type: ignore[attr-defined]
    os._exit(code)


if __name__ == "__main__":
    main()
