"""D4 (targets.md): figures of the warehouse on a mapped dataset against an independent Polars computation
straight from the raw file. Complaints (CFPB): complaints received per company and month — the warehouse's
CPL-001 numerator (fct_complaint_rate) by the enterprise's profile name — against the raw rows grouped by
`Company` and the month of `Date received`. Both sides as (company, period, complaints) frames."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from pipelines.mappings.common import load_config


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


# ---- D4 overdue buckets (LendingClub -> CRD-001) --------------------------------------------------------
# CRD-001 (indicators.md): outstanding principal of loans 1-30 (M1), 31-60 (M2), 61-90 (M3), > 90 (M3+)
# days past due / total outstanding principal; `total` is all overdue buckets together. The raw side reads
# the CSV itself; only loan_status -> days past due comes from lendingclub.yml (the documented mapping).
BUCKETS = [("M1", 1, 30), ("M2", 31, 60), ("M3", 61, 90), ("M3+", 91, None)]
OVERDUE_SCHEMA = {"bucket": pl.String, "overdue": pl.Int64, "outstanding": pl.Int64}  # cents


def overdue_buckets_from_raw(data_root: Path, limit: int | None = None) -> pl.DataFrame:
    """bucket (M1, M2, M3, M3+, total), overdue and total outstanding principal (cents), share."""
    cfg = load_config("lendingclub")
    days = {k: v["days_past_due"] for k, v in cfg["status"]["values"].items()}
    still_open = [k for k, v in cfg["status"]["values"].items() if v["status"] in ("current", "overdue")]
    raw = pl.read_csv(data_root / cfg["source"], n_rows=limit, infer_schema_length=10_000)
    book = raw.filter(pl.col("loan_status").is_in(still_open)).select(
        dpd=pl.col("loan_status").replace_strict(days, return_dtype=pl.Int64),
        principal=(pl.col("balance").cast(pl.Float64) * 100).round(0).cast(pl.Int64),
    )
    book = book.filter(pl.col("principal") > 0)
    total = book["principal"].sum()
    rows = []
    for name, low, high in [*BUCKETS, ("total", 1, None)]:
        inside = pl.col("dpd") >= low if high is None else pl.col("dpd").is_between(low, high)
        rows.append({"bucket": name, "overdue": book.filter(inside)["principal"].sum(), "outstanding": total})
    return _with_share(pl.DataFrame(rows, schema=OVERDUE_SCHEMA))


def overdue_buckets_from_warehouse(
    con: duckdb.DuckDBPyConnection, enterprise_id: str, period: str | None = None
) -> pl.DataFrame:
    """CRD-001 of one period: by default the snapshot month of lendingclub.yml (the raw side's status)."""
    rows = con.execute(
        """
        select coalesce(dimension_value, 'total'), cast(numerator * 100 as bigint), cast(denominator * 100 as bigint)
        from marts.fct_indicator_values
        where indicator_id = 'CRD-001' and metric = 'overdue_principal_share' and enterprise_id = ?
            and period = ?
        """,
        [enterprise_id, period or load_config("lendingclub")["period"]],
    ).fetchall()
    return _with_share(pl.DataFrame(rows, schema=OVERDUE_SCHEMA, orient="row"))


def _with_share(frame: pl.DataFrame) -> pl.DataFrame:
    order = {name: k for k, (name, _, _) in enumerate([*BUCKETS, ("total", 0, 0)])}
    return frame.with_columns(share=(pl.col("overdue") / pl.col("outstanding")).round(9)).sort(
        pl.col("bucket").replace_strict(order, return_dtype=pl.Int64)
    )


def compare_overdue(warehouse: pl.DataFrame, raw: pl.DataFrame) -> pl.DataFrame:
    """Every bucket of either side with both amounts and shares; `match` when amounts are equal."""
    return (
        raw.join(warehouse, on="bucket", how="full", coalesce=True, suffix="_warehouse")
        .rename({"overdue": "overdue_raw", "outstanding": "outstanding_raw", "share": "share_raw"})
        .with_columns(
            match=pl.col("overdue_raw").eq_missing(pl.col("overdue_warehouse"))
            & pl.col("outstanding_raw").eq_missing(pl.col("outstanding_warehouse"))
        )
    )
