"""Thresholds of the rule stages, read from the one source the indicators use too:
``dbt_project/seeds/thresholds.csv`` (indicator_id, param, ent_type, valid_from, valid_to, value, ...).

One resolution, the one dbt applies (``models/intermediate/reference/int_thresholds_resolved.sql`` and the
macro ``join_threshold()``):

1. **Level.** For an indicator (or rule) id, a parameter and an enterprise type, the seed may give rows for
   the indicator and the type, the indicator and every type (``*``), every indicator (``*``) and the type,
   or ``*`` and ``*``. The most specific level that has *any* row wins for the whole parameter (whatever
   its validity windows): indicator and type > indicator > type > ``*``.
2. **Day.** Of that level's rows, the one valid on the day asked (``valid_from`` inclusive, ``valid_to``
   exclusive). A rule asks at the **period end** of the submission (or row) it judges and for its
   enterprise type, as the marts do: a backfill is judged with the thresholds of its own period.

:func:`threshold_sql` gives the same resolution as SQL over a row's enterprise type and date columns (rule
queries resolve per submission); :func:`threshold_at` in Python. ``tests/integration/test_thresholds_parity.py``
runs dbt's resolution and this one on the same seed rows and compares.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date
from functools import cache

from pipelines.reference import seed_path

SEED = seed_path("thresholds.csv")


@cache
def _rows() -> tuple[dict[str, str], ...]:
    with SEED.open(encoding="utf-8", newline="") as fh:
        return tuple({k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh))


@cache
def ent_types() -> tuple[str, ...]:
    """The enterprise types (those of ``filing_requirements.csv``, as dbt's resolution takes them)."""
    with seed_path("filing_requirements.csv").open(encoding="utf-8", newline="") as fh:
        return tuple(sorted({row["ent_type"].strip() for row in csv.DictReader(fh)}))


def resolved_rows(indicator_id: str, param: str, ent_type: str) -> list[dict[str, str]]:
    """The seed rows of ``param`` that apply to ``indicator_id`` and ``ent_type`` on some day: those of the
    most specific level present (all of its validity windows)."""
    best: list[dict[str, str]] = []
    best_level = 4
    for r in _rows():
        if r["param"] != param or r["indicator_id"] not in (indicator_id, "*"):
            continue
        if r["ent_type"] not in (ent_type, "*"):
            continue
        level = 2 * (r["indicator_id"] == "*" != indicator_id) + (r["ent_type"] == "*" != ent_type)
        if level < best_level:
            best, best_level = [r], level
        elif level == best_level:
            best.append(r)
    return best


def threshold_row_at(indicator_id: str, param: str, *, ent_type: str, on: date) -> dict[str, str]:
    """The seed row of ``param`` for ``indicator_id`` and ``ent_type`` valid on ``on`` (a KeyError when
    the resolution gives none, as dbt's left join gives null)."""
    day = on.isoformat()
    for r in resolved_rows(indicator_id, param, ent_type):
        if r["valid_from"] <= day < r["valid_to"]:
            return r
    raise KeyError(f"thresholds seed has no {param} for {indicator_id} ({ent_type}) on {day}")


def threshold_at(indicator_id: str, param: str, *, ent_type: str, on: date) -> float:
    """The value of :func:`threshold_row_at`."""
    return float(threshold_row_at(indicator_id, param, ent_type=ent_type, on=on)["value"])


def threshold_row(
    indicator_id: str, param: str, ent_type: str = "*", on: date | None = None
) -> dict[str, str]:
    """Outside the rule stages only (the generator's injectors pick amounts that will cross a threshold):
    :func:`threshold_row_at` with ``ent_type`` defaulting to every type and ``on`` to today. Rules resolve
    at their submission's period end and enterprise type (:func:`threshold_sql`)."""
    return threshold_row_at(indicator_id, param, ent_type=ent_type, on=on or date.today())


def threshold(indicator_id: str, param: str, ent_type: str = "*", on: date | None = None) -> float:
    """The value of :func:`threshold_row` (generator use; rules use :func:`threshold_sql`)."""
    return float(threshold_row(indicator_id, param, ent_type, on)["value"])


def threshold_sql(
    indicator_id: str,
    param: str,
    *,
    ent_type: str,
    on: str,
    column: str = "value",
    render: Callable[[float], str] | None = None,
) -> str:
    """SQL for the resolved seed row's ``column`` (``value``: a DOUBLE, else the text) of ``param``, per row:
    ``ent_type`` and ``on`` are SQL expressions naming the row's enterprise type and day (a rule passes its
    submission's ``ent_type`` and ``period_end``). ``render`` (with ``column='value'``) gives the value as
    text formatted in Python instead (for messages). Null when the resolution has no row for that day."""
    whens = []
    for ent in ent_types():
        for r in resolved_rows(indicator_id, param, ent):
            when = (
                f"{ent_type} = '{ent}' and {on} >= date '{r['valid_from']}' and {on} < date '{r['valid_to']}'"
            )
            if render is not None:
                then = "'" + render(float(r["value"])).replace("'", "''") + "'"
            elif column == "value":
                then = f"cast({float(r['value'])!r} as double)"
            elif r[column]:
                then = "'" + r[column].replace("'", "''") + "'"
            else:
                then = "null"
            whens.append(f"when {when} then {then}")
    if not whens:
        raise KeyError(f"thresholds seed has no {param} for {indicator_id}")
    return f"(case {' '.join(whens)} end)"
