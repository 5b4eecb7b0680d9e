"""Thresholds of the rule stages, read from the one source the indicators use too:
``dbt_project/seeds/thresholds.csv`` (indicator_id, param, ent_type, valid_from, valid_to, value, ...).

Lookup follows the dbt macro ``threshold()``: the row of the indicator (or rule) id for the enterprise type,
else for every type (``*``), else the convention defaults under indicator id ``*``; valid on the given day.
"""

from __future__ import annotations

import csv
from datetime import date
from functools import cache
from pathlib import Path

SEED = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "thresholds.csv"


@cache
def _rows() -> tuple[dict[str, str], ...]:
    with SEED.open(encoding="utf-8", newline="") as fh:
        return tuple({k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh))


def threshold_row(
    indicator_id: str, param: str, ent_type: str = "*", on: date | None = None
) -> dict[str, str]:
    """The seed row of ``param`` for ``indicator_id`` (a KeyError when the seed has none)."""
    day = (on or date.today()).isoformat()
    for ind in (indicator_id, "*"):
        for ent in (ent_type, "*"):
            for r in _rows():
                if (
                    r["indicator_id"] == ind
                    and r["param"] == param
                    and r["ent_type"] == ent
                    and r["valid_from"] <= day <= r["valid_to"]
                ):
                    return r
    raise KeyError(f"thresholds seed has no {param} for {indicator_id} ({ent_type})")


def threshold(indicator_id: str, param: str, ent_type: str = "*", on: date | None = None) -> float:
    """The seed value of ``param`` for ``indicator_id`` (a KeyError when the seed has none)."""
    return float(threshold_row(indicator_id, param, ent_type, on)["value"])
