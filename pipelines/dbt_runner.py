"""Run the dbt project in-process against one warehouse file, at one warehouse clock.

    from pipelines.dbt_runner import build
    result = build(home.warehouse, as_of)          # dbt build: seeds, models, data tests, unit tests

Every invocation uses dbt's programmatic runner (`dbtRunner`) with the project and profiles in
`dbt_project/`, the warehouse path in $SUPTECH_WAREHOUSE (restored afterwards) and the clock as
`--vars '{as_of: "<ISO UTC>"}'`: marts write it as computed_at, so a rerun reproduces the same rows.
dbt-duckdb opens the warehouse read-write while it runs and closes it when it finishes: the caller must
hold no other connection to the file during the call.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
WAREHOUSE_ENV = "SUPTECH_WAREHOUSE"
# What in the project folder is not the project: dbt's output, installed packages, the user file.
NOT_PROJECT = frozenset({"target", "logs", "dbt_packages", ".user.yml"})

# Statuses of dbt node results that mean the node failed (run, test or unit test).
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})

# dbt keeps process-wide state (flags, adapters, the environment variable): one invocation at a time.
_DBT_LOCK = threading.Lock()


@dataclass(frozen=True)
class NodeFailure:
    unique_id: str
    name: str
    status: str
    message: str

    def __str__(self) -> str:
        return f"{self.unique_id} [{self.status}]: {self.message}"


@dataclass
class DbtResult:
    """What one dbt invocation did."""

    args: list[str]
    success: bool
    elapsed_s: float
    failures: list[NodeFailure] = field(default_factory=list)
    exception: BaseException | None = None
    node_statuses: dict[str, str] = field(default_factory=dict)  # unique_id -> status
    raw: object = None  # dbt's own result object (RunExecutionResult, Manifest, ...)

    @property
    def failed_nodes(self) -> list[str]:
        return [f.unique_id for f in self.failures]

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for status in self.node_statuses.values():
            counts[status] = counts.get(status, 0) + 1
        parts = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        return f"dbt {' '.join(self.args[:1])}: {'ok' if self.success else 'FAILED'} in {self.elapsed_s:.1f}s ({parts})"


class DbtBuildError(RuntimeError):
    """dbt failed; the message names the failing nodes and why."""

    def __init__(self, result: DbtResult):
        self.result = result
        lines = [f"dbt {' '.join(result.args)} failed after {result.elapsed_s:.1f}s"]
        if result.failures:
            lines.append(f"{len(result.failures)} failing node(s):")
            lines += [f"  - {f}" for f in result.failures]
        if result.exception is not None:
            lines.append(f"error: {result.exception}")
        if not result.failures and result.exception is None:
            lines.append("no failing node reported; see the dbt log in the target directory")
        super().__init__("\n".join(lines))


def as_of_text(as_of: datetime) -> str:
    """The warehouse clock as an ISO 8601 UTC timestamp (naive datetimes are taken as UTC)."""
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    return as_of.astimezone(UTC).isoformat()


@contextmanager
def _warehouse_env(warehouse: Path) -> Iterator[None]:
    """$SUPTECH_WAREHOUSE and DuckDB's memory_limit, threads and temp_directory (decided by
    pipelines/warehouse/settings.py, read by profiles.yml) for one invocation, restored afterwards."""
    from pipelines.warehouse.settings import resolve

    settings = resolve(warehouse)
    settings.temp_directory.parent.mkdir(parents=True, exist_ok=True)
    values = {WAREHOUSE_ENV: str(warehouse), **settings.dbt_env()}
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _release_warehouse() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after an invocation, so the
    caller (or the next invocation) can open the file again, read-only or read-write."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter
        return
    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if env is not None:
            env.close()


def _node_results(raw: object) -> list:
    results = getattr(raw, "results", None)
    return list(results) if results else []


def run_dbt(
    args: Sequence[str],
    *,
    warehouse: Path,
    as_of: datetime,
    target_dir: Path | None = None,
    variables: Mapping[str, str] | None = None,
) -> DbtResult:
    """Run one dbt command (e.g. ["build"], ["run", "--select", "marts"]) in-process.

    `target_dir` holds dbt's artifacts and log (default dbt_project/target); give each concurrent
    warehouse its own; `variables` are dbt vars besides as_of. Never raises for a failing node: check
    `success` or use `build`.
    """
    from dbt.cli.main import dbtRunner

    target = Path(target_dir) if target_dir is not None else PROJECT_DIR / "target"
    cli_args = [
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(target / "logs"),
        "--vars",
        json.dumps({"as_of": as_of_text(as_of), **(variables or {})}),
    ]
    started = time.perf_counter()
    with _DBT_LOCK, _warehouse_env(Path(warehouse).resolve()):
        try:
            outcome = dbtRunner().invoke(cli_args)
        finally:
            _release_warehouse()
    elapsed = time.perf_counter() - started

    failures: list[NodeFailure] = []
    statuses: dict[str, str] = {}
    for r in _node_results(outcome.result):
        status = str(getattr(r.status, "value", r.status))
        node = r.node
        statuses[node.unique_id] = status
        if status in FAILED_STATUSES:
            failures.append(NodeFailure(node.unique_id, node.name, status, (r.message or "").strip()))
    return DbtResult(
        args=list(args),
        success=bool(outcome.success),
        elapsed_s=elapsed,
        failures=failures,
        exception=outcome.exception,
        node_statuses=statuses,
        raw=outcome.result,
    )


def build(
    warehouse: Path,
    as_of: datetime,
    *,
    target_dir: Path | None = None,
    select: Sequence[str] = (),
    exclude_unit_tests: bool = False,
    full_refresh: bool = False,
    extra_args: Sequence[str] = (),
) -> DbtResult:
    """`dbt build`: seeds, models, data tests and unit tests in DAG order. Raises DbtBuildError naming
    the failing nodes when anything fails. `exclude_unit_tests` skips the unit tests (they read no
    warehouse data; the project's CI runs them). The incremental models (macros/incremental.sql) rebuild
    only the changed partitions; the build is a full refresh when `full_refresh` is asked or when the
    warehouse holds no complete build by this project (`incremental_state_current`: its fingerprint
    goes to dbt as the var project_fingerprint, which a complete build records). `result.args` shows
    which."""
    fingerprint = project_files_fingerprint()
    args = ["build"]
    if select:
        args += ["--select", *select]
    if exclude_unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    if full_refresh or not incremental_state_current(warehouse, fingerprint):
        args.append("--full-refresh")
    args += list(extra_args)
    variables = {"project_fingerprint": fingerprint}
    result = run_dbt(args, warehouse=warehouse, as_of=as_of, target_dir=target_dir, variables=variables)
    if not result.success:
        raise DbtBuildError(result)
    return result


def project_files_fingerprint(project_dir: Path = PROJECT_DIR) -> str:
    """sha256 over every file of the dbt project (models, macros, seeds, configuration; not its target,
    logs or packages) and dbt's and the adapter's versions: what the models compute besides the data."""
    from dbt.adapters.duckdb.__version__ import version as adapter_version
    from dbt.version import __version__ as dbt_version

    h = hashlib.sha256(f"dbt {dbt_version} duckdb {adapter_version}\n".encode())
    for path in sorted(project_dir.rglob("*")):
        rel = path.relative_to(project_dir)
        if path.is_file() and not NOT_PROJECT.intersection(rel.parts):
            h.update(f"{rel.as_posix()} {hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return h.hexdigest()


def incremental_state_current(warehouse: Path, fingerprint: str | None = None) -> bool:
    """Whether the warehouse holds the state of a complete build (schema dbt_state, macros/incremental.sql)
    by this project (`fingerprint`, default the project's now): if not, the next build must be a full
    refresh, or a changed model, macro or seed would leave rows computed the old way. Opens the file
    read-only: call with no other connection to it open."""
    import duckdb

    if not Path(warehouse).exists():
        return False
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        recorded = con.execute("select fingerprint from dbt_state.project").fetchall()
    except duckdb.CatalogException:
        return False
    finally:
        con.close()
    return recorded == [(fingerprint or project_files_fingerprint(),)]


DBT_PROJECT_DIR = PROJECT_DIR


def ensure_manifest() -> Path:
    """dbt_project/target/manifest.json, parsed now if absent (Dagster loads the dbt assets from it)."""
    manifest = PROJECT_DIR / "target" / "manifest.json"
    if not manifest.exists():
        from dbt.cli.main import dbtRunner

        args = ["parse", "--quiet", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
        with _DBT_LOCK:
            outcome = dbtRunner().invoke(args)
        if not outcome.success or not manifest.exists():
            raise RuntimeError(f"dbt parse failed: {outcome.exception}; run `make dbt-parse` to see why")
    return manifest
