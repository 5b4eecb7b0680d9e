"""Business calendar: which days are working days (filings.md "Time").

One definition for the whole project: the dbt seed `business_calendar.csv` (day, is_working_day, note),
read here by the generator and injectors and by the dbt macro `is_working_day` in the marts. It holds
mainland China's public holidays and make-up working weekends (调休) as announced by the General Office
of the State Council, every day from 2015-01-01 to 2026-12-31. Outside that range a working day is
Monday to Friday.

The seed is built from the `chinesecalendar` package (a dev dependency), by hand or by `make docs`:

    python -m pipelines.business_calendar
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from functools import cache

from pipelines.reference import seed_path

SEED = seed_path("business_calendar.csv")
FIRST_DAY = date(2015, 1, 1)
LAST_DAY = date(2026, 12, 31)
EPOCH = date(1970, 1, 1)
HEADER = ("day", "is_working_day", "note")


@cache
def _calendar() -> dict[date, bool]:
    with open(SEED, newline="", encoding="utf-8") as fh:
        return {date.fromisoformat(r["day"]): r["is_working_day"] == "true" for r in csv.DictReader(fh)}


def is_working_day(day: date) -> bool:
    """True on a day the seed marks working; Monday to Friday outside the seed's range."""
    known = _calendar().get(day)
    return day.weekday() < 5 if known is None else known


def is_working_ordinal(day: int) -> bool:
    """is_working_day of a day counted from 1970-01-01 (the generator's numpy datetime64[D] integers)."""
    return is_working_day(EPOCH + timedelta(days=int(day)))


def working_day_after(day: date, n: int) -> date:
    """The n-th working day after `day` (n >= 1), e.g. a deadline of n working days."""
    if n < 1:
        raise ValueError("n must be at least 1")
    while n:
        day += timedelta(days=1)
        n -= is_working_day(day)
    return day


def build_rows() -> list[tuple[str, str, str]]:
    """The seed's rows from `chinesecalendar` (holidays, in-lieu days off and make-up working days)."""
    import chinese_calendar  # dev dependency: only building the seed needs it

    rows = []
    day = FIRST_DAY
    while day <= LAST_DAY:
        holiday, name = chinese_calendar.get_holiday_detail(day)
        if name and not holiday:
            note = f"make-up working day ({name})"
        elif name:
            note = name + (" (in lieu)" if chinese_calendar.is_in_lieu(day) else "")
        else:
            note = "weekend" if holiday else ""
        rows.append((day.isoformat(), "false" if holiday else "true", note))
        day += timedelta(days=1)
    return rows


def render(rows: list[tuple[str, str, str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([HEADER, *rows])
    return buf.getvalue()


def main() -> None:
    SEED.write_text(render(build_rows()), encoding="utf-8")
    print(f"wrote {SEED}")


if __name__ == "__main__":
    main()
