"""One `tiny` end-to-end cycle shared by the e2e test modules (built once per test session/worker)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.cycle import CycleReport, run_cycle
from pipelines.home import Home
from pipelines.synth import generate

# After the close of the last generated period (2026-10 closes 2026-11-30 23:59:59 Shanghai).
AS_OF = datetime(2026, 12, 1, tzinfo=UTC)


@dataclass(frozen=True)
class TinyCycle:
    home: Home
    report: CycleReport
    truth_file: Path


@pytest.fixture(scope="session")
def tiny_cycle(tmp_path_factory: pytest.TempPathFactory) -> TinyCycle:
    """`tiny` preset, seed 11, four months from 2026-07 with every injected class, one backfill cycle.

    SUPTECH_E2E_HOME=<dir> keeps the home in <dir> and reuses it while its snapshot exists (local
    iterations on the shared 2-core machine; `rm -rf <dir>` after changing the pipeline; the reused report
    carries no per-submission statuses). CI leaves it unset.
    """
    reuse = os.environ.get("SUPTECH_E2E_HOME")
    home = Home.resolve(reuse or tmp_path_factory.mktemp("e2e")).ensure()
    truth_file = home.truth / "truth.jsonl"
    if reuse and (home.published / "suptech.duckdb").exists() and truth_file.exists():
        return TinyCycle(
            home, CycleReport(as_of=AS_OF, snapshot=home.published / "suptech.duckdb"), truth_file
        )
    generate(home.landing, truth_file, preset="tiny", seed=11, start_period="2026-07")
    report = run_cycle(home, as_of=AS_OF, backfill=True)
    return TinyCycle(home, report, truth_file)
