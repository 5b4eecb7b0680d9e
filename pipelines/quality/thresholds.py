"""Thresholds of the rule stages, read from the one source the indicators use too:
``dbt_project/seeds/thresholds.csv`` (indicator_id, param, ent_type, valid_from, valid_to, value, ...).

Lookup follows the dbt macro ``join_threshold()``: the row of the indicator (or rule) id for the enterprise
type, else for every type (``*``), else the convention defaults under indicator id ``*``; valid on the given
day (``valid_from`` inclusive, ``valid_to`` exclusive, as indicators.md says).
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
                    and r["valid_from"] <= day < r["valid_to"]
                ):
                    return r
    raise KeyError(f"thresholds seed has no {param} for {indicator_id} ({ent_type})")


def threshold(indicator_id: str, param: str, ent_type: str = "*", on: date | None = None) -> float:
    """The seed value of ``param`` for ``indicator_id`` (a KeyError when the seed has none)."""
    return float(threshold_row(indicator_id, param, ent_type, on)["value"])


def threshold_sql(indicator_id: str, param: str, *, ent_type: str, on: str, column: str = "value") -> str:
    """SQL for the seed's ``column`` (value or comparison) of ``param``, resolved per row as
    :func:`threshold_row` does: ``ent_type`` and ``on`` name the row's enterprise type and date columns, so
    a threshold with validity windows takes the window of each row's date."""
    whens = []
    for ind in (indicator_id, "*"):
        for specific in (True, False):
            for r in _rows():
                if r["indicator_id"] != ind or r["param"] != param or (r["ent_type"] != "*") != specific:
                    continue
                ent = f"{ent_type} = '{r['ent_type']}' and " if specific else ""
                when = f"{ent}{on} >= date '{r['valid_from']}' and {on} < date '{r['valid_to']}'"
                then = f"'{r[column]}'" if column != "value" else f"cast({float(r['value'])!r} as double)"
                whens.append(f"when {when} then {then}")
    if not whens:
        raise KeyError(f"thresholds seed has no {param} for {indicator_id}")
    return f"(case {' '.join(whens)} end)"
