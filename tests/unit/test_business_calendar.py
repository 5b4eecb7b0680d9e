"""The business calendar seed and its Python reader (pipelines/business_calendar.py).

The dbt side (macro is_working_day on the same seed) is checked by the singular test
dbt_project/tests/assert_business_calendar_known_days.sql and the RES-002, RES-003 and AML-001 unit tests,
whose business_calendar rows must be the seed's own (checked here).
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from pipelines import business_calendar as bc

MODELS = Path(__file__).resolve().parents[2] / "dbt_project" / "models"

KNOWN = [
    (date(2018, 2, 11), True),  # Sunday, make-up working day for the Spring Festival
    (date(2019, 10, 1), False),  # National Day
    (date(2020, 1, 19), True),  # Sunday, make-up working day for the Spring Festival
    (date(2020, 1, 31), False),  # Friday, the 2020 Spring Festival extension
    (date(2024, 2, 4), True),  # Sunday, make-up working day for the Spring Festival
    (date(2024, 10, 1), False),  # National Day
    (date(2026, 10, 10), True),  # Saturday, make-up working day for National Day
    (date(2026, 10, 11), False),  # an ordinary Sunday
    (date(2026, 10, 12), True),  # an ordinary Monday
    (date(2014, 12, 31), True),  # before the seed: Monday-Friday (a Wednesday)
    (date(2027, 1, 2), False),  # after the seed: Monday-Friday (a Saturday)
]


@pytest.mark.parametrize(("day", "working"), KNOWN)
def test_known_days(day: date, working: bool) -> None:
    assert bc.is_working_day(day) is working
    assert bc.is_working_ordinal((day - date(1970, 1, 1)).days) is working


def test_working_day_after_skips_holidays_and_counts_make_up_days() -> None:
    # Fri 2026-10-09: Sat 10-10 (make-up), Mon 10-12, Tue 10-13, Wed 10-14, Thu 10-15
    assert bc.working_day_after(date(2026, 10, 9), 5) == date(2026, 10, 15)
    # the holiday 10-01: 10-08, 10-09, 10-10, 10-12, 10-13
    assert bc.working_day_after(date(2026, 10, 1), 5) == date(2026, 10, 13)
    assert bc.working_day_after(date(2026, 9, 30), 1) == date(2026, 10, 8)
    # from outside the seed into it: 2015-01-01..03 New Year, Sunday 01-04 a make-up working day
    assert bc.working_day_after(date(2014, 12, 31), 1) == date(2015, 1, 4)
    with pytest.raises(ValueError):
        bc.working_day_after(date(2026, 10, 9), 0)


def test_seed_covers_every_day_once() -> None:
    with open(bc.SEED, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == bc.HEADER
    days = [date.fromisoformat(r[0]) for r in rows[1:]]
    assert days[0] == bc.FIRST_DAY and days[-1] == bc.LAST_DAY
    assert all(b - a == timedelta(days=1) for a, b in zip(days, days[1:], strict=False))
    assert {r[1] for r in rows[1:]} == {"true", "false"}
    # every year has make-up working weekends and weekday holidays
    for year in range(2015, 2027):
        year_rows = [r for r, d in zip(rows[1:], days, strict=True) if d.year == year]
        assert any(r[1] == "true" and date.fromisoformat(r[0]).weekday() >= 5 for r in year_rows), year
        assert any(r[1] == "false" and date.fromisoformat(r[0]).weekday() < 5 for r in year_rows), year


def test_seed_is_current() -> None:
    """The committed seed is what `python -m pipelines.business_calendar` writes."""
    pytest.importorskip("chinese_calendar")
    assert bc.SEED.read_text(encoding="utf-8") == bc.render(bc.build_rows())


def _calendar_fixtures() -> list[tuple[str, list[dict[str, str]]]]:
    found = []
    for path in sorted(MODELS.rglob("*.yml")):
        for test in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("unit_tests") or []:
            for given in test.get("given", []):
                if given.get("input") == "ref('business_calendar')":
                    assert given.get("format") == "csv", test["name"]
                    found.append((test["name"], list(csv.DictReader(io.StringIO(given["rows"])))))
    return found


def test_dbt_unit_tests_use_the_seeds_own_rows() -> None:
    with open(bc.SEED, newline="", encoding="utf-8") as fh:
        seed = {r["day"]: r for r in csv.DictReader(fh)}
    fixtures = _calendar_fixtures()
    names = {name for name, _ in fixtures}
    assert {
        "res002_schedule_and_base_rule_by_validity_window",
        "res003_break_persisting_to_the_next_working_day",
        "aml001_large_value_by_single_amount_or_day_total_and_report_deadline",
    } <= names
    for name, rows in fixtures:
        assert rows, name
        for row in rows:
            assert row == seed[row["day"]], (name, row)
