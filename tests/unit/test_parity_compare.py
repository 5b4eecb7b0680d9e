"""The parity check's comparison (pipelines/scaleout/parity.py) catches what it must: a row on one side only,
a status, an id or a count that differs, a ratio off by more than 0.005 relative, a duplicated key; and
lets through a ratio within the tolerance and the same instant written with or without a time zone
(DuckDB's timestamptz, Spark's Parquet timestamp). `make parity` runs it on real Spark output."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.home import Home
from pipelines.scaleout.parity import compare
from pipelines.scaleout.spark import spark_table

DUCK = """
create schema marts;
create table marts.fct_indicator_values (enterprise_id varchar, period varchar, indicator_id varchar,
    metric varchar, as_of_date date, dimension varchar, dimension_value varchar, value double,
    numerator double, denominator double, threshold double, status varchar, computed_at timestamptz);
insert into marts.fct_indicator_values values
    ('PAY0001', '2026-10', 'RES-001', 'coverage', '2026-10-02', null, null, 1.0, 100, 100, 1.0, 'OK',
        '2026-12-01 00:00:00+00'),
    ('PAY0001', '2026-10', 'RES-001', 'coverage', '2026-10-03', null, null, 0.8, 80, 100, 1.0, 'BREACH',
        '2026-12-01 00:00:00+00'),
    ('PAY0002', '2026-10', 'CPL-001', 'rate', null, null, null, 2.0, 2, 1, 5.0, 'OK', '2026-12-01 00:00:00+00');
create table marts.fct_alerts (alert_id varchar, enterprise_id varchar, severity varchar, value double);
insert into marts.fct_alerts values ('a1', 'PAY0001', 'BREACH', 0.8);
create table marts.fct_risk_scores (enterprise_id varchar, period varchar, family varchar, breaches integer,
    score double);
insert into marts.fct_risk_scores values ('PAY0001', '2026-10', 'RES', 1, 20.0);
"""

# the Spark side: the same rows, timestamps without a time zone, a ratio 0.4 % off (within tolerance)
SPARK = {
    "fct_indicator_values": """
        select * from (values
            ('PAY0001', '2026-10', 'RES-001', 'coverage', date '2026-10-02', null, null, 1.0, 100.0, 100.0,
                1.0, 'OK', timestamp '2026-12-01 00:00:00'),
            ('PAY0001', '2026-10', 'RES-001', 'coverage', date '2026-10-03', null, null, 0.8032, 80.0, 100.0,
                1.0, 'BREACH', timestamp '2026-12-01 00:00:00'),
            ('PAY0002', '2026-10', 'CPL-001', 'rate', null, null, null, 2.0, 2.0, 1.0, 5.0, 'OK',
                timestamp '2026-12-01 00:00:00'))
        as t(enterprise_id, period, indicator_id, metric, as_of_date, dimension, dimension_value, value,
            numerator, denominator, threshold, status, computed_at)""",
    "fct_alerts": "select 'a1' as alert_id, 'PAY0001' as enterprise_id, 'BREACH' as severity, 0.8 as value",
    "fct_risk_scores": """select 'PAY0001' as enterprise_id, '2026-10' as period, 'RES' as family,
        1 as breaches, 20.0 as score""",
}


def _home(tmp_path: Path, spark: dict[str, str]) -> Home:
    home = Home.resolve(tmp_path / "home").ensure()
    home.warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(home.warehouse))
    con.execute(DUCK)
    con.close()
    con = duckdb.connect()
    for table, select in spark.items():
        folder = spark_table(home, "marts", table)
        folder.mkdir(parents=True)
        # two files, as Spark writes one per task
        con.execute(f"copy ({select}) to '{folder / 'part-00000.parquet'}' (format parquet)")
        con.execute(
            f"copy (select * from ({select}) limit 0) to '{folder / 'part-00001.parquet'}' (format parquet)"
        )
    con.close()
    return home


def test_the_same_marts_within_tolerance_compare_equal(tmp_path: Path) -> None:
    result = compare(_home(tmp_path, SPARK))
    assert result.differences == []
    assert result.rows == 5


@pytest.mark.parametrize(
    ("table", "old", "new", "expected"),
    [
        ("fct_indicator_values", "0.8032", "0.81", "fct_indicator_values.value at"),  # 1.25 % off
        ("fct_indicator_values", "'BREACH'", "'WARN'", "fct_indicator_values.status at"),
        (
            "fct_indicator_values",
            "80.0, 100.0,\n                1.0",
            "81.0, 100.0,\n                1.0",
            ".numerator",
        ),
        ("fct_indicator_values", "date '2026-10-03'", "date '2026-10-04'", "DuckDB only"),
        (
            "fct_indicator_values",
            "timestamp '2026-12-01 00:00:00'))",
            "timestamp '2026-12-01 00:00:01'))",
            "computed_at",
        ),
        ("fct_alerts", "'a1' as alert_id", "'a2' as alert_id", "fct_alerts: Spark only"),
        ("fct_risk_scores", "1 as breaches", "2 as breaches", "fct_risk_scores.breaches at"),
    ],
)
def test_each_kind_of_difference_is_reported(
    tmp_path: Path, table: str, old: str, new: str, expected: str
) -> None:
    spark = dict(SPARK)
    assert old in spark[table]
    spark[table] = spark[table].replace(old, new)
    result = compare(_home(tmp_path, spark))
    assert any(expected in d for d in result.differences), result.differences


def test_a_table_the_spark_build_did_not_write_is_a_difference(tmp_path: Path) -> None:
    spark = {t: q for t, q in SPARK.items() if t != "fct_risk_scores"}
    result = compare(_home(tmp_path, spark))
    assert any(d.startswith("fct_risk_scores: the Spark build wrote no table") for d in result.differences)


def test_a_duplicated_key_is_a_difference(tmp_path: Path) -> None:
    spark = dict(SPARK)
    spark["fct_alerts"] = SPARK["fct_alerts"] + " union all " + SPARK["fct_alerts"]
    result = compare(_home(tmp_path, spark))
    assert any("appears 2 times on s" in d for d in result.differences), result.differences
