"""The dbt seeds the generator obeys, read through pipelines.calendar (the intake's own reader)."""

from __future__ import annotations

from datetime import date

from pipelines.calendar import CalendarRule, required_filing_types
from pipelines.calendar import calendar_rule as _calendar_rule


def filing_requirements() -> dict[str, tuple[str, ...]]:
    """ent_type -> owed filing types, in seed order."""
    return required_filing_types()


def calendar_rule(ent_type: str, period_end: date) -> CalendarRule:
    """The calendar row valid on the period's last day; an exact ent_type beats '*'."""
    return _calendar_rule(ent_type, f"{period_end:%Y-%m}")
