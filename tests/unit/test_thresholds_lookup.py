"""The Python lookups of the thresholds seed resolve rows as dbt's join_threshold does: the indicator's
row for the enterprise type, else for every type, else the '*' defaults; valid_from inclusive, valid_to
exclusive - checked on a hand-made seed with two validity windows."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from pipelines.quality import thresholds

ROWS = (
    # indicator_id, param, ent_type, valid_from, valid_to, value, comparison
    ("X-1", "limit", "*", "2000-01-01", "2019-01-14", "0.2", ">"),
    ("X-1", "limit", "*", "2019-01-14", "9999-12-31", "1.0", ">="),
    ("X-1", "limit", "PAY", "2000-01-01", "9999-12-31", "0.5", "<"),
    ("*", "floor", "*", "2000-01-01", "9999-12-31", "7", ""),
)


@pytest.fixture
def seed(monkeypatch: pytest.MonkeyPatch) -> None:
    cols = ("indicator_id", "param", "ent_type", "valid_from", "valid_to", "value", "comparison")
    monkeypatch.setattr(thresholds, "_rows", lambda: tuple(dict(zip(cols, r, strict=True)) for r in ROWS))


def test_threshold_row_takes_the_type_then_the_window(seed) -> None:
    assert thresholds.threshold("X-1", "limit", "PAY", date(2018, 1, 1)) == 0.5
    assert thresholds.threshold("X-1", "limit", "P2P", date(2019, 1, 13)) == 0.2
    assert thresholds.threshold("X-1", "limit", "P2P", date(2019, 1, 14)) == 1.0  # valid_to is exclusive
    assert thresholds.threshold("X-1", "floor", "WM") == 7  # the '*' default
    with pytest.raises(KeyError):
        thresholds.threshold("X-1", "missing")


def test_threshold_sql_resolves_each_row_like_the_python_lookup(seed) -> None:
    value = thresholds.threshold_sql("X-1", "limit", ent_type="t", on="d")
    comparison = thresholds.threshold_sql("X-1", "limit", ent_type="t", on="d", column="comparison")
    cases = [("PAY", "2018-01-01"), ("P2P", "2019-01-13"), ("P2P", "2019-01-14"), ("CF", "2030-06-30")]
    rows = ", ".join(f"('{t}', date '{d}')" for t, d in cases)
    got = duckdb.sql(
        f"select t, d, {value}, {comparison} from (values {rows}) as v(t, d) order by all"
    ).fetchall()
    expected = {
        (t, date.fromisoformat(d)): (
            thresholds.threshold("X-1", "limit", t, date.fromisoformat(d)),
            thresholds.threshold_row("X-1", "limit", t, date.fromisoformat(d))["comparison"],
        )
        for t, d in cases
    }
    assert {(t, d): (v, c) for t, d, v, c in got} == expected
    assert expected[("P2P", date(2019, 1, 14))] == (1.0, ">=")
