"""The reference seeds (thresholds, filing calendar and requirements, business calendar, FATF lists, risk
weights, the rule catalog, the indicator catalog): the one place Python finds them.

The files are the dbt project's seeds (`dbt_project/seeds/*.csv`, the copy dbt loads into `seeds.*`). The
package reaches them through the link `pipelines/seeds -> ../dbt_project/seeds` and ships them as package
data (`[tool.setuptools.package-data]` in pyproject.toml), so an installed wheel reads the same bytes
without the repository beside it. Readers call `seed_path(name)` or `read_seed(name)`; generators that
write a seed (`python -m pipelines.business_calendar`, `pipelines.quality.catalog.seed`, the indicator
catalog) write through `seed_path(name)` too, which resolves the link to the dbt project's file.
Never locate a seed with `Path(__file__).parents[...]`.
"""

from __future__ import annotations

import csv
from importlib.resources import files
from pathlib import Path

SEEDS_PACKAGE_DIR = "seeds"  # under the `pipelines` package; a link to ../dbt_project/seeds in the repo


def seeds_dir() -> Path:
    """The directory of the reference seeds (the dbt project's `seeds/` in a checkout)."""
    return Path(str(files("pipelines") / SEEDS_PACKAGE_DIR)).resolve()


def seed_path(name: str) -> Path:
    """The path of one seed, e.g. ``seed_path("thresholds.csv")`` (the `.csv` suffix may be left out)."""
    if not name.endswith(".csv"):
        name += ".csv"
    return seeds_dir() / name


def read_seed(name: str) -> list[dict[str, str]]:
    """The rows of one seed as dicts of strings, in file order (csv.DictReader, UTF-8)."""
    with open(seed_path(name), newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


SEEDS_DIR = seeds_dir()
