"""The dbt seeds the generator obeys: which filing types each enterprise type owes, and the due time."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, time
from functools import cache
from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"


@cache
def filing_requirements() -> dict[str, tuple[str, ...]]:
    """ent_type -> owed filing types, in seed order."""
    out: dict[str, list[str]] = {}
    with open(SEEDS_DIR / "filing_requirements.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["ent_type"], []).append(row["filing_type"])
    return {k: tuple(v) for k, v in out.items()}


@dataclass(frozen=True)
class CalendarRule:
    ent_type: str
    valid_from: date
    valid_to: date
    due_day: int
    due_time: time
    close_days: int
    timezone: str


@cache
def _calendar_rules() -> tuple[CalendarRule, ...]:
    with open(SEEDS_DIR / "filing_calendar.csv", encoding="utf-8", newline="") as f:
        return tuple(
            CalendarRule(
                ent_type=r["ent_type"],
                valid_from=date.fromisoformat(r["valid_from"]),
                valid_to=date.fromisoformat(r["valid_to"]),
                due_day=int(r["due_day"]),
                due_time=time.fromisoformat(r["due_time"]),
                close_days=int(r["close_days"]),
                timezone=r["timezone"],
            )
            for r in csv.DictReader(f)
        )


def calendar_rule(ent_type: str, period_end: date) -> CalendarRule:
    """The calendar row valid on the period's last day; an exact ent_type beats '*'."""
    rules = [r for r in _calendar_rules() if r.valid_from <= period_end < r.valid_to]
    for r in rules:
        if r.ent_type == ent_type:
            return r
    for r in rules:
        if r.ent_type == "*":
            return r
    raise LookupError(f"no filing calendar row for {ent_type} on {period_end}")
