"""The worked example of docs/dev-interfaces.md ("adding an indicator") stays true: its three blocks (the
model SQL, the YAML beside it, a thresholds row) applied to a copy of the dbt project are refused by the
build until `python -m pipelines.docs.indicators_doc` has run, and after it the new indicator is in the
seed, the mart list and docs/indicators.md and fct_indicator_values compiles with it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.docs.indicators_doc import ROOT, catalog, indicator_marts, indicators, main, render

DOC = ROOT / "docs" / "dev-interfaces.md"
BLOCK = re.compile(r"^```(sql|yaml|csv) (dbt_project/\S+)\n(.*?)^```$", re.M | re.S)
DBT = Path(sys.executable).parent / "dbt"


def _blocks() -> list[tuple[str, str, str]]:
    text = DOC.read_text(encoding="utf-8")
    assert "## Worked example: adding an indicator" in text
    return BLOCK.findall(text)


def _apply(root: Path) -> tuple[str, str]:
    """Write the example into the copy at root; (indicator id, model name)."""
    blocks = _blocks()
    assert [kind for kind, _, _ in blocks] == ["sql", "yaml", "csv"], "model SQL, its YAML, a thresholds row"
    (_, sql_path, sql), (_, yml_path, yml), (_, csv_path, row) = blocks
    assert Path(sql_path).parent == Path(yml_path).parent, "the YAML sits beside the SQL"
    assert csv_path == "dbt_project/seeds/thresholds.csv"
    target = root / sql_path
    assert not target.exists(), f"{sql_path} exists in the project: pick another example name"
    target.write_text(sql, encoding="utf-8")
    yml_file = root / yml_path
    yml_file.write_text(yml_file.read_text(encoding="utf-8").rstrip("\n") + "\n" + yml, encoding="utf-8")
    seed = root / csv_path
    seed.write_text(seed.read_text(encoding="utf-8").rstrip("\n") + "\n" + row, encoding="utf-8")
    indicator_id = re.search(r"- id: ([A-Z]+-\d{3})", yml).group(1)
    return indicator_id, Path(sql_path).stem


def _compile(project: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SUPTECH_WAREHOUSE": str(project.parent / "compile.duckdb")}
    return subprocess.run(
        [
            str(DBT),
            "compile",
            "--profiles-dir",
            ".",
            "--no-partial-parse",
            "-s",
            "fct_indicator_values",
            "--vars",
            '{as_of: "2026-12-01T00:00:00Z"}',
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_adding_an_indicator_as_the_worked_example_says(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(
        ROOT / "dbt_project", root / "dbt_project", ignore=shutil.ignore_patterns("target", "logs")
    )
    (root / "docs").mkdir()
    indicator_id, model = _apply(root)
    project = root / "dbt_project"
    assert indicator_id not in {r["indicator_id"] for r in catalog()}

    refused = _compile(project)
    assert refused.returncode != 0 and "indicator_marts() is stale" in refused.stdout + refused.stderr, (
        refused.stdout[-2000:]
    )

    main(root)
    rows = {r["indicator_id"]: r for r in catalog(project)}
    assert rows[indicator_id]["family"] == indicator_id.split("-")[0]
    assert model in indicator_marts(project)
    assert f"### {indicator_id} " in (root / "docs" / "indicators.md").read_text(encoding="utf-8")
    assert f"### {indicator_id} " in render(project)
    assert [d.model for d in indicators(project) if d.indicator_id == indicator_id] == [model]
    assert f"{indicator_id}," in (project / "seeds" / "indicators.csv").read_text(encoding="utf-8")

    built = _compile(project)
    assert built.returncode == 0, built.stdout[-3000:]
    compiled = next((project / "target" / "compiled").rglob("fct_indicator_values.sql")).read_text(
        encoding="utf-8"
    )
    assert f'"{model}"' in compiled
