"""The open layout: the warehouse's raw filings, intake tables and analysts' marts as Hive-style Parquet
folders that any engine reads (Spark, Trino, Polars, DuckDB, pyarrow), written by the cycle's `lake` step
from the snapshots that publishing just made (docs/operations.md, "The open layout").

<home>/lake/raw/     (0700: the writer, the Spark route and auditors; it holds filed identifiers)
    filing_type=<ft>/period=<YYYY-MM>/enterprise_id=<id>/submission_id=<sid>/part-0.parquet
        every row of raw.<ft> of one loaded submission (statuses ACCEPTED, ACCEPTED_WITH_WARNINGS and,
        later, SUPERSEDED; and REJECTED, whose rows the data-quality indicators read), all its columns, in
        delivered order (_row). Written once, never rewritten: a resubmission adds its own submission_id
        folder, the superseded one stays. The dbt project on Spark reads these folders as its sources.
    intake/submissions/period=<P>/part-0.parquet          from the auditors' snapshot (filed identifiers)
    intake/submission_events/period=<P>/part-0.parquet    (period: the event's submission's)
    intake/files/period=<P>/part-0.parquet
    quality/findings/period=<P>/part-0.parquet
    quality/rule_results/period=<P>/part-0.parquet
    _fingerprints.json                                    what the partitions above were written from
<home>/lake/marts/   (0755, files 0644: analysts)
    <mart>/period=<P>/part-0.parquet   from the analysts' pseudonymised snapshot (published/suptech.duckdb)
    <mart>/part-0.parquet              a mart without a period column (dim_enterprises)
    _fingerprints.json

A null partition value is Hive's `__HIVE_DEFAULT_PARTITION__`; a value outside [A-Za-z0-9._-] is
percent-encoded. Types are the warehouse's, except JSON (written as text) and HUGEINT (counts, as BIGINT:
DuckDB would write a HUGEINT as a DOUBLE).

Cost follows the change: a period partition (intake tables, marts) is rewritten only when its content
changed - a content fingerprint per partition, computed in DuckDB and recorded in _fingerprints.json; the
clock stamp `computed_at` is left out of it, so a cycle at a later clock that changes no value writes
nothing, and a partition's computed_at is the clock of the cycle that last changed its rows.

Crash safety: everything is written under <home>/lake/.staging/ (0700, emptied at the start of each run),
fsynced, then renamed into place: a submission's folder in one rename (a folder that exists is complete),
a partition's file in one os.replace (readers see the old file or the new one). A file whose new bytes equal
the old is left alone (its mtime too). Bytes are deterministic: the same rows in the same order (ORDER BY
_row, or ORDER BY ALL) with fixed Parquet settings, whatever the thread count.
"""

from __future__ import annotations

import filecmp
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines import faults
from pipelines.home import Home
from pipelines.warehouse.db import snapshot_path
from pipelines.warehouse.settings import apply as apply_settings
from pipelines.warehouse.settings import resolve as resolve_settings

LAKE = "lake"
PART = "part-0.parquet"
STATE = "_fingerprints.json"
STAGING = ".staging"
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
PARQUET = "(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 3, ROW_GROUP_SIZE 122880)"
LAYOUT_VERSION = "lake-1"  # bump when what a partition's file holds changes (rewrites every partition)
# every version whose rows were loaded into raw.*: the accepted ones and the REJECTED ones (the data-quality
# indicators judge every version received, as the warehouse's raw schema holds them; MALFORMED packages
# never load rows, DUPLICATE deliveries add none)
KEPT_STATUSES = ("ACCEPTED", "ACCEPTED_WITH_WARNINGS", "SUPERSEDED", "REJECTED")
CLOCK_COLUMNS = ("computed_at",)  # left out of the change detection (see the module docstring)
RAW_MODE, PUBLIC_DIR_MODE, PUBLIC_FILE_MODE, PRIVATE_FILE_MODE = 0o700, 0o755, 0o644, 0o600
# the period of the row's submission: the partition of the intake tables keyed by submission_id
SUBMISSION_PERIOD = "(select s.period from src.intake.submissions s where s.submission_id = t.submission_id)"
# intake tables exported beside the raw filings: folder -> (relation, the partition's period)
INTAKE_TABLES: dict[str, tuple[str, str | None]] = {
    "intake/submissions": ("src.intake.submissions", "t.period"),
    "intake/submission_events": ("src.intake.submission_events", SUBMISSION_PERIOD),
    "intake/files": ("src.intake.files", SUBMISSION_PERIOD),
    "quality/findings": ("src.quality.findings", SUBMISSION_PERIOD),
    "quality/rule_results": ("src.quality.rule_results", SUBMISSION_PERIOD),
}
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass
class LakeReport:
    """What one run wrote (paths relative to <home>/lake)."""

    raw_folders: list[str] = field(default_factory=list)  # new submission folders
    partitions: list[str] = field(default_factory=list)  # partition files written (new or changed)
    removed: list[str] = field(default_factory=list)  # partition files of periods or tables that are gone


def lake_dir(home: Home) -> Path:
    return home.root / LAKE


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def partition_value(value: object) -> str:
    """A folder name's value: Hive's null partition, the text itself when plainly safe, else every byte
    but ASCII letters and digits percent-encoded (no '/', no '..', no '=' can reach the path)."""
    if value is None:
        return NULL_PARTITION
    text = str(value)
    if _SAFE.fullmatch(text):
        return text
    return "".join(chr(b) if chr(b).isalnum() and b < 128 else f"%{b:02X}" for b in text.encode("utf-8"))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _mkdirs(path: Path, mode: int | None) -> None:
    """Create the folder and its missing parents, each with `mode` (None: the umask's)."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        d.mkdir(exist_ok=True)
        if mode is not None:
            os.chmod(d, mode)


def _copy(con: duckdb.DuckDBPyConnection, select: str, dest: Path, mode: int) -> None:
    con.execute(f"copy ({select}) to {_lit(str(dest))} {PARQUET}")
    os.chmod(dest, mode)
    _fsync(dest)


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    rel = con.sql(f"select * from {relation} limit 0")
    return [(name, str(dtype)) for name, dtype in zip(rel.columns, rel.types, strict=True)]


def _select_list(cols: list[tuple[str, str]]) -> str:
    """The columns as written: JSON as text, HUGEINT as BIGINT (Parquet has no 128-bit integer)."""
    out = []
    for name, dtype in cols:
        if dtype == "JSON":
            out.append(f"t.{_q(name)}::varchar as {_q(name)}")
        elif dtype in ("HUGEINT", "UHUGEINT"):
            out.append(f"t.{_q(name)}::bigint as {_q(name)}")
        else:
            out.append(f"t.{_q(name)}")
    return ", ".join(out)


class _Writer:
    def __init__(self, con: duckdb.DuckDBPyConnection, root: Path, report: LakeReport) -> None:
        self.con, self.root, self.report = con, root, report
        self.staging = root / STAGING
        self._n = 0

    def stage(self, name: str) -> Path:
        self._n += 1
        return self.staging / f"{self._n:06d}-{name}"

    # raw filings: one folder per accepted submission and filing type, written once

    def raw_filings(self, raw: Path) -> None:
        con = self.con
        tables = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where database_name = 'src' and schema_name = 'raw'"
            ).fetchall()
        }
        wanted = con.execute(
            "select f.filing_type, s.period, s.enterprise_id, s.submission_id "
            "from src.intake.files f join src.intake.submissions s using (submission_id) "
            "where s.status in (select unnest(?)) order by all",
            [list(KEPT_STATUSES)],
        ).fetchall()
        for ft, period, ent, sid in wanted:
            if ft not in tables:
                continue
            keys = {"filing_type": ft, "period": period, "enterprise_id": ent, "submission_id": sid}
            rel = Path(*(f"{k}={partition_value(v)}" for k, v in keys.items()))
            final = raw / rel
            if final.is_dir():
                continue  # written by an earlier cycle: never rewritten
            stage = self.stage("raw")
            stage.mkdir(mode=RAW_MODE)
            _copy(
                con,
                f"select * from src.raw.{_q(ft)} where submission_id = {_lit(sid)} order by _row",
                stage / PART,
                PRIVATE_FILE_MODE,
            )
            _fsync(stage)
            _mkdirs(final.parent, RAW_MODE)
            faults.checkpoint("lake.write")
            os.rename(stage, final)
            _fsync(final.parent)
            self.report.raw_folders.append((raw / rel).relative_to(self.root).as_posix())

    # tables kept as period partitions, a partition rewritten when its content changed

    def tables(
        self,
        area: Path,
        tables: dict[str, tuple[str, str | None]],
        *,
        dir_mode: int | None,
        file_mode: int,
        prune_tables: bool,
    ) -> None:
        """`tables`: folder name -> (relation, period SQL or None for an unpartitioned table)."""
        state_path = area / STATE
        try:
            recorded: dict[str, str] = json.loads(state_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            recorded = {}
        current: dict[str, str] = {}
        for name, (relation, period_sql) in tables.items():
            expected = self._table(area, name, relation, period_sql, recorded, current, dir_mode, file_mode)
            self._prune(area / name, expected)
        if prune_tables:
            for folder in sorted(
                p for p in area.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
            ):
                if folder.name not in tables:
                    self._prune(folder, set())
                    shutil.rmtree(folder, ignore_errors=True)
        if current != recorded:
            tmp = self.stage("state.json")
            tmp.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            os.chmod(tmp, file_mode)
            _fsync(tmp)
            os.replace(tmp, state_path)
            _fsync(area)

    def _table(
        self,
        area: Path,
        name: str,
        relation: str,
        period_sql: str | None,
        recorded: dict[str, str],
        current: dict[str, str],
        dir_mode: int | None,
        file_mode: int,
    ) -> set[Path]:
        con = self.con
        cols = _columns(con, relation)
        select = _select_list(cols)
        compared = [c for c, _ in cols if c not in CLOCK_COLUMNS]
        row = "row(" + ", ".join(f"t.{_q(c)}" for c in compared) + ")::varchar"
        part = f"({period_sql})::varchar" if period_sql else "null::varchar"
        rows = con.execute(
            f"select p, count(*), sha256(string_agg(h, '' order by h)) from "
            f"(select {part} as p, md5({row}) as h from {relation} t) group by p order by p nulls first"
        ).fetchall()
        head = f"{LAYOUT_VERSION}|{name}|{PARQUET}|" + ",".join(f"{c} {d}" for c, d in cols)
        expected: set[Path] = set()
        for period, n, digest in rows:
            rel = f"{name}/period={partition_value(period)}" if period_sql else name
            fp = hashlib.sha256(f"{head}|{n}|{digest}".encode()).hexdigest()
            current[rel] = fp
            final = area / rel / PART
            expected.add(final)
            if recorded.get(rel) == fp and final.is_file():
                continue
            where = ""
            if period_sql:
                where = f" where {part} is null" if period is None else f" where {part} = {_lit(period)}"
            stage = self.stage("part.parquet")
            _copy(con, f"select {select} from {relation} t{where} order by all", stage, file_mode)
            if final.is_file() and filecmp.cmp(stage, final, shallow=False):
                stage.unlink()  # the same bytes: leave the file (and its mtime) alone
                continue
            _mkdirs(final.parent, dir_mode)
            faults.checkpoint("lake.write")
            os.replace(stage, final)
            _fsync(final.parent)
            self.report.partitions.append(final.relative_to(self.root).as_posix())
        return expected

    def _prune(self, folder: Path, expected: set[Path]) -> None:
        """Remove the partition files of the table folder that are not expected, then its empty folders."""
        if not folder.is_dir():
            return
        for f in sorted(folder.rglob("*")):
            if f.is_file() and f not in expected:
                f.unlink()
                self.report.removed.append(f.relative_to(self.root).as_posix())
        for d in sorted((d for d in folder.rglob("*") if d.is_dir()), key=lambda d: -len(d.parts)):
            if not any(d.iterdir()):
                d.rmdir()


def _marts(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str | None]]:
    rows = con.execute(
        "select t.table_name, bool_or(c.column_name = 'period') from duckdb_tables() t "
        "join duckdb_columns() c using (database_name, schema_name, table_name) "
        "where t.database_name = 'ana' and t.schema_name = 'marts' group by 1 order by 1"
    ).fetchall()
    return {name: (f"ana.marts.{_q(name)}", "t.period" if has_period else None) for name, has_period in rows}


def write_lake(home: Home, progress: Callable[[str, int, int], None] | None = None) -> LakeReport:
    """Bring <home>/lake up to date with the published snapshots (call it after publishing, with the writer
    lock held). Idempotent: a second run on the same snapshots writes nothing."""
    auditor, analyst = snapshot_path(home, "auditor"), snapshot_path(home, "analyst")
    for path in (auditor, analyst):
        if not path.exists():
            raise FileNotFoundError(f"no published snapshot at {path}: the lake is written after publishing")
    root = lake_dir(home)
    raw, marts, staging = root / "raw", root / "marts", root / STAGING
    for folder, mode in ((root, PUBLIC_DIR_MODE), (raw, RAW_MODE), (marts, PUBLIC_DIR_MODE)):
        _mkdirs(folder, mode)
        os.chmod(folder, mode)  # also a folder made by hand or under another umask
    shutil.rmtree(staging, ignore_errors=True)  # left by a killed run: never visible in the layout
    staging.mkdir(mode=RAW_MODE)
    os.chmod(staging, RAW_MODE)
    report = LakeReport()
    con = duckdb.connect()
    try:
        apply_settings(con, resolve_settings(home.warehouse))
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        con.execute(f"attach {_lit(str(auditor))} as src (read_only)")
        con.execute(f"attach {_lit(str(analyst))} as ana (read_only)")
        writer = _Writer(con, root, report)
        if progress:
            progress("lake", 0, 3)
        writer.raw_filings(raw)
        if progress:
            progress("lake", 1, 3)
        writer.tables(
            raw,
            INTAKE_TABLES,
            dir_mode=RAW_MODE,
            file_mode=PRIVATE_FILE_MODE,
            prune_tables=False,
        )
        if progress:
            progress("lake", 2, 3)
        writer.tables(
            marts, _marts(con), dir_mode=PUBLIC_DIR_MODE, file_mode=PUBLIC_FILE_MODE, prune_tables=True
        )
        if progress:
            progress("lake", 3, 3)
    finally:
        con.close()
    shutil.rmtree(staging, ignore_errors=True)
    return report
