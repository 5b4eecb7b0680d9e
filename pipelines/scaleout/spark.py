"""The dbt project on Apache Spark: `dbt build --target spark` over a home's open layout (<home>/lake/raw).

    from pipelines.scaleout.spark import build_on_spark
    result = build_on_spark(home, as_of)      # seeds and models on a local PySpark, tests left out

The `spark` target (dbt_project/profiles.yml) is dbt-spark's `session` method: PySpark runs inside the dbt
process, no server (`make parity` installs it into .venv-spark). Its sources are external Parquet tables over
<home>/lake/raw, registered on start (dbt_project/macros/lake_sources.sql); its metastore (Derby) and
managed tables live under <home>/spark/, one folder per build. Managed tables are Parquet folders:
<home>/spark/warehouse/<schema>.db/<table>/*.parquet, which `spark_table` names for readers (DuckDB,
Polars, pyarrow). Tests and unit tests stay on DuckDB: the parity check compares the marts instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipelines.dbt_runner import PROJECT_DIR, as_of_text
from pipelines.home import Home

SPARK_DIR = "spark"


@dataclass
class SparkBuild:
    """What one dbt build on Spark did."""

    success: bool
    elapsed_s: float
    log: Path  # dbt's and Spark's output
    statuses: dict[str, str] = field(default_factory=dict)  # node unique_id -> dbt status
    failures: dict[str, str] = field(default_factory=dict)  # node unique_id -> message
    timings_s: dict[str, float] = field(default_factory=dict)  # node unique_id -> execution time
    startup_s: float | None = None  # launch to the first node's start: process, dbt parse, JVM, the hook

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for status in self.statuses.values():
            counts[status] = counts.get(status, 0) + 1
        parts = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        state = "ok" if self.success else "FAILED"
        startup = (
            f", {self.startup_s:.0f} s of it before the first node" if self.startup_s is not None else ""
        )
        return f"dbt build on Spark: {state} in {self.elapsed_s:.0f} s{startup} ({parts}); log {self.log}"


def spark_dir(home: Home) -> Path:
    return home.root / SPARK_DIR


def spark_table(home: Home, schema: str, table: str) -> Path:
    """The folder of a managed table the Spark build wrote."""
    return spark_dir(home) / "warehouse" / f"{schema}.db" / table


def build_on_spark(home: Home, as_of: datetime, *, select: str | None = None) -> SparkBuild:
    """Seeds and models (`select`: a dbt selection, default all) on a fresh local Spark at clock `as_of`,
    reading <home>/lake/raw. The previous Spark folder of the home is replaced."""
    raw = home.root / "lake" / "raw"
    if not raw.is_dir():
        raise FileNotFoundError(
            f"{raw} does not exist: run a cycle first (`suptech run`), its lake step writes it"
        )
    root = spark_dir(home)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    log = root / "dbt-build.log"
    args = [
        str(Path(sys.executable).parent / "dbt"),
        "build",
        "--target",
        "spark",
        "--profiles-dir",
        str(PROJECT_DIR),
        "--project-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(root / "target"),
        "--log-path",
        str(root / "logs"),
        "--exclude",
        "resource_type:test",
        "resource_type:unit_test",
        "--vars",
        json.dumps({"as_of": as_of_text(as_of)}),
    ]
    if select:
        args += ["--select", select]
    env = {**os.environ, "SUPTECH_LAKE_RAW": str(raw), "SUPTECH_SPARK_DIR": str(root)}
    started, launched = time.monotonic(), datetime.now(UTC)
    with log.open("wb") as out:
        # the JVM's working directory is the Spark folder: Derby and Spark leave their files there
        code = subprocess.run(
            args, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
        ).returncode
    result = SparkBuild(success=code == 0, elapsed_s=time.monotonic() - started, log=log)
    results_file = root / "target" / "run_results.json"
    if results_file.is_file():
        starts = []
        for node in json.loads(results_file.read_text())["results"]:
            starts += [
                datetime.fromisoformat(t["started_at"]) for t in node.get("timing", []) if t.get("started_at")
            ]
            uid = node["unique_id"]
            result.statuses[uid] = node["status"]
            result.timings_s[uid] = float(node.get("execution_time") or 0.0)
            if node["status"] in ("error", "fail"):
                result.failures[uid] = " ".join(str(node.get("message") or "").split())
        if starts:
            first = min(starts)
            result.startup_s = (first.replace(tzinfo=first.tzinfo or UTC) - launched).total_seconds()
    return result
