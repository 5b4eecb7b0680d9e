"""Reporting periods and the Shanghai clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from pipelines.synth.seeds import calendar_rule

SHANGHAI = timezone(timedelta(hours=8))  # Asia/Shanghai has had no DST since 1991
EPOCH = date(1970, 1, 1)


def ordinal(d: date) -> int:
    """Days since 1970-01-01 (numpy datetime64[D] integer)."""
    return (d - EPOCH).days


def from_ordinal(n: int) -> date:
    return EPOCH + timedelta(days=int(n))


@dataclass(frozen=True)
class Period:
    label: str  # YYYY-MM
    index: int  # 0 = first generated period; -1 = the unwritten warm-up month
    first: date
    last: date

    @property
    def ndays(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def first_ord(self) -> int:
        return ordinal(self.first)

    @property
    def last_ord(self) -> int:
        return ordinal(self.last)

    @property
    def yymm(self) -> str:
        return self.label[2:4] + self.label[5:7]

    def due_at(self, ent_type: str) -> datetime:
        """Due time: the calendar's due day after the period end, at its due time, Shanghai."""
        rule = calendar_rule(ent_type, self.last)
        day = self.last + timedelta(days=rule.due_day)
        return datetime.combine(day, rule.due_time, tzinfo=SHANGHAI)


def period_of(label: str, index: int = 0) -> Period:
    y, m = (int(x) for x in label.split("-"))
    first = date(y, m, 1)
    nxt = date(y + (m == 12), m % 12 + 1, 1)
    return Period(label, index, first, nxt - timedelta(days=1))


def shift(label: str, months: int) -> str:
    y, m = (int(x) for x in label.split("-"))
    k = y * 12 + (m - 1) + months
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


def periods(start: str, months: int) -> list[Period]:
    return [period_of(shift(start, i), i) for i in range(months)]


def add_months(day_ord, months):
    """Vectorised: the same day-of-month (capped at 28) `months` later, for numpy arrays of ordinals."""
    import numpy as np

    d = np.asarray(day_ord, dtype="int64").astype("datetime64[D]")
    m = d.astype("datetime64[M]")
    dom = np.minimum((d - m).astype("int64"), 27)
    return ((m + np.asarray(months, dtype="int64")).astype("datetime64[D]").astype("int64") + dom).astype(
        "int64"
    )
