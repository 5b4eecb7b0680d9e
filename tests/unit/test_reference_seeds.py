"""pipelines.reference is the one locator of the reference seeds, and the seeds ship as package data."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

from pipelines.reference import read_seed, seed_path, seeds_dir

ROOT = Path(__file__).resolve().parents[2]
DBT_SEEDS = ROOT / "dbt_project" / "seeds"
# pipelines/quality/ switches its own call sites (issue 12 part 3); every other module is checked here.
NOT_YET = ("pipelines/quality/",)
LOOKUP = re.compile(r"""["']dbt_project["']\s*\)?\s*/\s*["']seeds["']|dbt_project/seeds["']""")


def test_seeds_dir_is_the_dbt_projects_seed_dir():
    assert seeds_dir() == DBT_SEEDS.resolve()
    assert seed_path("thresholds") == seed_path("thresholds.csv") == DBT_SEEDS.resolve() / "thresholds.csv"
    rows = read_seed("filing_requirements.csv")
    assert rows and set(rows[0]) == {"ent_type", "filing_type"}


def test_every_seed_is_package_data():
    """The link pipelines/seeds -> ../dbt_project/seeds and the package-data glob cover every seed."""
    link = ROOT / "pipelines" / "seeds"
    assert link.is_symlink() and link.resolve() == DBT_SEEDS.resolve()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["pipelines"]
    seeds = sorted(p.name for p in DBT_SEEDS.glob("*.csv"))
    assert seeds
    for name in seeds:
        assert any(fnmatch.fnmatch(f"seeds/{name}", g) for g in globs), f"{name} is not package data"


def test_no_module_locates_a_seed_by_hand():
    offenders = []
    for path in sorted((ROOT / "pipelines").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "pipelines/reference.py" or rel.startswith(NOT_YET):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if LOOKUP.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert not offenders, "locate seeds through pipelines.reference:\n" + "\n".join(offenders)
