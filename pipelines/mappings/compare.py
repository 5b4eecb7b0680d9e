"""D4 (targets.md): figures of the warehouse on a mapped dataset against an independent Polars computation
straight from the raw file. Complaints (CFPB): complaints received per company and month — the warehouse's
CPL-001 numerator (fct_complaint_rate) by the enterprise's profile name — against the raw rows grouped by
`Company` and the month of `Date received`. Both sides as (company, period, complaints) frames."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from pipelines.mappings.convert import load_config


def complaints_from_raw(data_root: Path, limit: int | None = None) -> pl.DataFrame:
    """Straight from the CSV: rows per company and month received (no mapping code involved)."""
    cfg = load_config("cfpb")
    raw = pl.read_csv(data_root / cfg["source"], n_rows=limit, infer_schema_length=0)
    return (
        raw.select(
            company=pl.col("Company").str.slice(0, 200),
            period=pl.col("Date received").str.to_date("%Y/%m/%d").dt.strftime("%Y-%m"),
        )
        .group_by("company", "period")
        .agg(complaints=pl.len().cast(pl.Int64))
        .sort("company", "period")
    )


def complaints_from_warehouse(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    rows = con.execute(
        """
        select profile.name as company, rate.period, cast(rate.numerator as bigint) as complaints
        from marts.fct_complaint_rate as rate
        inner join (select distinct enterprise_id, name from raw.enterprise_profile) as profile
            on rate.enterprise_id = profile.enterprise_id
        where rate.metric = 'complaints_per_10k_customers' and rate.enterprise_id like 'PAY5%'
        """
    ).fetchall()
    return pl.DataFrame(
        rows, schema={"company": pl.String, "period": pl.String, "complaints": pl.Int64}, orient="row"
    ).sort("company", "period")


def compare(warehouse: pl.DataFrame, raw: pl.DataFrame) -> pl.DataFrame:
    """Every (company, period) of either side with both counts; `match` when equal."""
    return (
        raw.join(warehouse, on=["company", "period"], how="full", coalesce=True, suffix="_warehouse")
        .rename({"complaints": "complaints_raw"})
        .with_columns(match=pl.col("complaints_raw").eq_missing(pl.col("complaints_warehouse")))
        .sort("company", "period")
    )
