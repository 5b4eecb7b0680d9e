"""Every screen a mart runs has its parameters in the thresholds seed.

robust_screen() and peer_percentile() read their z threshold, severity and percentile from the seed; a
missing row makes the screen silently never fire (unit tests give their own threshold fixtures, so they
cannot notice). Checked here against the real seed for each mart that names its indicator_id.
"""

import csv
import re
from pathlib import Path

import pytest

DBT = Path(__file__).resolve().parents[2] / "dbt_project"
SCREEN = re.compile(r"robust_screen\(\s*'[^']+'\s*,\s*'(peers|history)'")
PERCENTILE = re.compile(r"peer_percentile\(\s*'[^']+'\s*,\s*'([a-z_]+)'")
INDICATOR = re.compile(r"set indicator_id = '([A-Z]+-\d{3})'")
Z_PARAM = {"peers": "peer_robust_z", "history": "history_robust_z"}


def _seed_params() -> set[tuple[str, str]]:
    with open(DBT / "seeds" / "thresholds.csv", encoding="utf-8", newline="") as fh:
        return {(row["indicator_id"], row["param"]) for row in csv.DictReader(fh)}


def _screened_marts() -> list[tuple[str, str, list[str]]]:
    out = []
    for path in sorted((DBT / "models" / "marts").rglob("*.sql")):
        sql = path.read_text(encoding="utf-8")
        found = INDICATOR.search(sql)
        params = [Z_PARAM[m] for m in SCREEN.findall(sql)] + PERCENTILE.findall(sql)
        if found and params:
            out.append((path.stem, found.group(1), sorted(set(params))))
    return out


def test_some_marts_are_screened() -> None:
    assert any(model == "fct_loan_overdue" for model, _, _ in _screened_marts())


@pytest.mark.parametrize(("model", "indicator_id", "params"), _screened_marts())
def test_screen_parameters_are_in_the_seed(model: str, indicator_id: str, params: list[str]) -> None:
    seed = _seed_params()
    missing = [p for p in params if (indicator_id, p) not in seed and ("*", p) not in seed]
    assert missing == [], f"{model} ({indicator_id}) screens with no seed row for {missing}"
