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

import json
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
WAREHOUSE_ENV = "SUPTECH_WAREHOUSE"

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
) -> DbtResult:
    """Run one dbt command (e.g. ["build"], ["run", "--select", "marts"]) in-process.

    `target_dir` holds dbt's artifacts and log (default dbt_project/target); give each concurrent
    warehouse its own. Never raises for a failing node: check `success` or use `build`.
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
        json.dumps({"as_of": as_of_text(as_of)}),
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
    extra_args: Sequence[str] = (),
) -> DbtResult:
    """`dbt build`: seeds, models, data tests and unit tests in DAG order. Raises DbtBuildError naming
    the failing nodes when anything fails. `exclude_unit_tests` skips the unit tests (they read no
    warehouse data; the project's CI runs them)."""
    args = ["build"]
    if select:
        args += ["--select", *select]
    if exclude_unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    args += list(extra_args)
    result = run_dbt(args, warehouse=warehouse, as_of=as_of, target_dir=target_dir)
    if not result.success:
        raise DbtBuildError(result)
    return result


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
