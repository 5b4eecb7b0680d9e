"""Filing calendar: which filing types each enterprise type owes and when a period's return is due.

Both are configuration, read from the dbt seeds (the single source shared with the marts):
`filing_requirements.csv` and `filing_calendar.csv`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from pipelines.reference import read_seed

SHANGHAI = ZoneInfo("Asia/Shanghai")
ENTERPRISE_ID = re.compile(r"^(PAY|P2P|CF|WM)([0-9]{4})$")
PERIOD = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class CalendarRule:
    ent_type: str
    valid_from: date
    valid_to: date
    due_day: int
    due_time: time
    close_days: int
    timezone: str
    manifest_grace_seconds: int


def _read_seed(name: str) -> list[dict[str, str]]:
    return read_seed(name)


@cache
def required_filing_types() -> dict[str, tuple[str, ...]]:
    """Enterprise type -> the filing types it owes every period."""
    owed: dict[str, list[str]] = {}
    for row in _read_seed("filing_requirements.csv"):
        owed.setdefault(row["ent_type"], []).append(row["filing_type"])
    return {k: tuple(v) for k, v in owed.items()}


@cache
def calendar_rules() -> tuple[CalendarRule, ...]:
    return tuple(
        CalendarRule(
            ent_type=r["ent_type"],
            valid_from=date.fromisoformat(r["valid_from"]),
            valid_to=date.fromisoformat(r["valid_to"]),
            due_day=int(r["due_day"]),
            due_time=time.fromisoformat(r["due_time"]),
            close_days=int(r["close_days"]),
            timezone=r["timezone"],
            manifest_grace_seconds=int(r["manifest_grace_seconds"]),
        )
        for r in _read_seed("filing_calendar.csv")
    )


def ent_type_of(enterprise_id: str) -> str | None:
    m = ENTERPRISE_ID.match(enterprise_id or "")
    return m.group(1) if m else None


def period_bounds(period: str) -> tuple[date, date]:
    """First and last day of a YYYY-MM period."""
    m = PERIOD.match(period)
    if not m:
        raise ValueError(f"period {period!r} is not YYYY-MM")
    first = date(int(m.group(1)), int(m.group(2)), 1)
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def calendar_rule(ent_type: str | None, period: str) -> CalendarRule:
    """The calendar row valid on the period's last day, preferring the enterprise type's own row."""
    _, last = period_bounds(period)
    rows = [
        r for r in calendar_rules() if r.valid_from <= last < r.valid_to and r.ent_type in (ent_type, "*")
    ]
    if not rows:
        raise LookupError(f"no filing_calendar row covers {period} for {ent_type}")
    return sorted(rows, key=lambda r: r.ent_type == "*")[0]


def due_at(ent_type: str | None, period: str) -> datetime:
    """Due time (UTC) of a period's return: the due_day-th day after the period ends, at due_time local."""
    rule = calendar_rule(ent_type, period)
    _, last = period_bounds(period)
    local = datetime.combine(
        last + timedelta(days=rule.due_day), rule.due_time, tzinfo=ZoneInfo(rule.timezone)
    )
    return local.astimezone(UTC)


def close_at(ent_type: str | None, period: str) -> datetime:
    """When the period closes: close_days after the due time."""
    return due_at(ent_type, period) + timedelta(days=calendar_rule(ent_type, period).close_days)


def manifest_grace_seconds() -> int:
    return min(r.manifest_grace_seconds for r in calendar_rules())


# The months the intake takes filings for: from the first month the filing calendar covers up to this many
# months after the warehouse clock's month (a filer may file a month ahead; nobody files a year ahead).
PERIOD_MONTHS_AHEAD = 12


def _month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def period_window(clock: datetime) -> tuple[str, str]:
    """The first and last period (YYYY-MM) the intake accepts at `clock`: the filing calendar's first
    month, and PERIOD_MONTHS_AHEAD months after the clock's month in Shanghai."""
    first = min(r.valid_from for r in calendar_rules())
    local = clock.astimezone(SHANGHAI)
    last = _month_index(local.year, local.month) + PERIOD_MONTHS_AHEAD
    return f"{first.year:04d}-{first.month:02d}", f"{last // 12:04d}-{last % 12 + 1:02d}"


def period_problem(period: str, ent_type: str | None, clock: datetime) -> str | None:
    """Why `period` is not a filing period at `clock` (None when it is one)."""
    first, last = period_window(clock)
    if not PERIOD.match(period):
        return f"period {period!r} is not a month written YYYY-MM"
    if not first <= period <= last:
        return (
            f"period {period} is outside the filing calendar ({first} to {last}, "
            f"{PERIOD_MONTHS_AHEAD} months after the warehouse clock): set the month the return is for"
        )
    try:
        due_at(ent_type, period)
    except LookupError:
        return f"period {period}: no filing calendar row covers it for {ent_type}: set the month the return is for"
    return None
