"""One threshold resolution: dbt's (the seed through ``int_thresholds_resolved`` and the macro
``join_threshold()``, as the marts read it) and the Python one the rules use
(:mod:`pipelines.quality.thresholds`: ``threshold_at`` and the per-row SQL of ``threshold_sql``) give the
same row for every indicator x parameter x enterprise type on every day that matters - each validity
window's first and last day and the day after, and a few period ends - on the real seed rows.

dbt builds the seeds and the model into a scratch warehouse; the join is the macro itself, compiled by dbt
with a placeholder parameter (``join_threshold`` takes the parameter as a literal)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb

from pipelines.quality import thresholds

AS_OF = datetime(2026, 12, 1, tzinfo=UTC)
PERIOD_ENDS = ("2016-01-31", "2019-01-31", "2024-02-29", "2026-09-30", "2026-10-31", "2026-11-30")
PLACEHOLDER = "__parity_param__"


def _dbt_warehouse(tmp_path) -> tuple[duckdb.DuckDBPyConnection, str]:
    from pipelines.dbt_runner import run_dbt

    wh = tmp_path / "thresholds.duckdb"
    target = tmp_path / "target"
    seeded = run_dbt(
        ["seed", "--select", "thresholds indicators filing_requirements"],
        warehouse=wh,
        as_of=AS_OF,
        target_dir=target,
    )
    assert seeded.success, seeded.exception
    built = run_dbt(
        ["run", "--select", "int_thresholds_resolved"], warehouse=wh, as_of=AS_OF, target_dir=target
    )
    assert built.success, built.exception
    call = (
        "select 1 from grid as g {{ join_threshold('" + PLACEHOLDER + "', ent_type='g.ent_type', "
        "on_date='g.day', indicator_column='g.indicator_id', alias='t') }}"
    )
    compiled = run_dbt(
        ["compile", "--quiet", "--log-level", "none", "--inline", call],
        warehouse=wh,
        as_of=AS_OF,
        target_dir=target,
    )
    nodes = getattr(compiled.raw, "results", None) or []
    assert compiled.success and nodes, compiled.exception
    join = nodes[0].node.compiled_code
    join = join[join.index("left join") :].replace(f"'{PLACEHOLDER}'", "g.param")
    return duckdb.connect(str(wh)), join


def _days() -> list[date]:
    days = {date.fromisoformat(d) for d in PERIOD_ENDS}
    for r in thresholds._rows():
        for d in (r["valid_from"], r["valid_to"]):
            day = date.fromisoformat(d)
            if day.year < 9999:
                days |= {day - timedelta(days=1), day, day + timedelta(days=1)}
    return sorted(days)


def test_python_resolution_equals_dbt_on_the_seed(tmp_path) -> None:
    con, join = _dbt_warehouse(tmp_path)
    try:
        days = _days()
        con.execute(
            """create temp table grid as
            select i.indicator_id, p.param, e.ent_type, d.day
            from seeds.indicators i
            cross join (select distinct param from seeds.thresholds) p
            cross join (select distinct ent_type from seeds.filing_requirements) e
            cross join (select unnest(?::date[]) as day) d""",
            [days],
        )
        dbt_rows = con.execute(
            f"select g.indicator_id, g.param, g.ent_type, g.day, t.value, t.comparison, t.severity "
            f"from grid g {join}"
        ).fetchall()
    finally:
        con.close()
    assert dbt_rows and len({r[:4] for r in dbt_rows}) == len(dbt_rows), "one dbt row per grid cell"

    resolved = 0
    for ind, param, ent, day, value, comparison, severity in dbt_rows:
        try:
            row = thresholds.threshold_row_at(ind, param, ent_type=ent, on=day)
        except KeyError:
            assert value is None, (ind, param, ent, day, value)
            continue
        resolved += 1
        got = (float(row["value"]), row["comparison"] or None, row["severity"] or None)
        assert got == (value, comparison, severity), (ind, param, ent, day)
    assert resolved > 1000  # the grid is not all empty cells

    # the per-row SQL the rules embed resolves the same way: every parameter a rule reads, and every
    # parameter some indicator overrides (its own rows or validity windows)
    own = {(r["indicator_id"], r["param"]) for r in thresholds._rows()}
    pairs = {(ind, p) for ind, p, *_ in dbt_rows if (ind, p) in own}
    pairs |= {
        ("FQ-005", "min_amounts"),
        ("FQ-005", "max_mad"),
        ("FQ-002", "max_control_total_change"),
        ("FQ-006", "history_robust_z"),
        ("FQ-006", "max_history"),
        ("FQ-006", "min_history"),
        ("FQ-006", "min_size"),
        ("FQ-006", "mad_floor_share"),
        ("FQ-006", "min_rel_change"),
    }
    expected = {(ind, p, ent, day): value for ind, p, ent, day, value, *_ in dbt_rows if (ind, p) in pairs}
    grid = ", ".join(f"('{e}', date '{d}')" for e in thresholds.ent_types() for d in days)
    parts = [
        f"select '{ind}', '{p}', ent_type, day, {thresholds.threshold_sql(ind, p, ent_type='ent_type', on='day')} "
        f"from (values {grid}) as g(ent_type, day)"
        for ind, p in sorted(pairs)
    ]
    got = duckdb.sql(" union all ".join(parts)).fetchall()
    assert {(ind, p, ent, day): v for ind, p, ent, day, v in got} == expected
