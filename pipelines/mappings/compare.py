"""D4 (targets.md): figures of the warehouse on a mapped dataset against an independent Polars computation
straight from the raw file.

Complaints (CFPB): complaints received per company and month — the warehouse's CPL-001 numerator
(fct_complaint_rate) by the enterprise's profile name — against the raw rows grouped by `Company` and the month
of the column cfpb.yml files as received_at ("Date sent to company": the company's receipt). Timeliness: CPL-002
per company and month (fct_indicator_values, fct_alerts) against the CFPB's own "Timely response?" flag, with
the closing day derived from the raw columns by the rule documented in cfpb.yml (the day sent when timely,
the 16th day after it when not), written here again without the mapping's code."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from pipelines.mappings.common import load_config, scalar

CFPB_DEADLINE = 15  # calendar days from the complaint being sent to the company (the CFPB's timely response)
MAX_OPEN_DAYS = 60  # CPL-002: open at period end and received more than this many days before it


def _cfpb_raw(data_root: Path, limit: int | None) -> pl.DataFrame:
    return pl.read_csv(data_root / load_config("cfpb")["source"], n_rows=limit, infer_schema_length=0)


def complaints_from_raw(data_root: Path, limit: int | None = None) -> pl.DataFrame:
    """Straight from the CSV: rows per company and month received by the company (no mapping code involved;
    only which column is the company's receipt comes from cfpb.yml)."""
    received = load_config("cfpb")["received"]
    return (
        _cfpb_raw(data_root, limit)
        .select(
            company=pl.col("Company").str.slice(0, 200),
            period=pl.col(received["column"]).str.to_date(received["format"]).dt.strftime("%Y-%m"),
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
    """Every (company, period) of either side with both counts (0 where a side has none: the warehouse
    lists a month filed only for complaints still open with 0 received); `match` when equal."""
    return (
        raw.join(warehouse, on=["company", "period"], how="full", coalesce=True, suffix="_warehouse")
        .rename({"complaints": "complaints_raw"})
        .with_columns(pl.col("complaints_raw", "complaints_warehouse").fill_null(0))
        .with_columns(match=pl.col("complaints_raw") == pl.col("complaints_warehouse"))
        .sort("company", "period")
    )


# ---- D4 complaint timeliness (CFPB "Timely response?" -> CPL-002) ---------------------------------------
TIMELINESS_SCHEMA = {"company": pl.String, "period": pl.String, "closed": pl.Int64, "timely": pl.Int64}


def _month_end(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1) - timedelta(days=1)


def timeliness_from_raw(data_root: Path, limit: int | None = None) -> pl.DataFrame:
    """The CFPB's own figures per company and month: `closed` responses (anything but "In progress") in the
    month of their closing day (sent + 0 days when "Timely response?" is Yes, sent + 16 when No), `timely`
    those the CFPB marks Yes, `share` = timely / closed; `open_over` the "In progress" complaints open at the
    month's end more than 60 days after being sent, for each month up to the extract's last (the latest
    sent or closing day)."""
    raw = _cfpb_raw(data_root, limit).select(
        company=pl.col("Company").str.slice(0, 200),
        sent=pl.col("Date sent to company").str.to_date("%Y/%m/%d"),
        is_open=pl.col("Company response to consumer") == "In progress",
        timely=pl.col("Timely response?") == "Yes",
    )
    raw = raw.with_columns(
        closing=pl.when(~pl.col("is_open")).then(
            pl.col("sent") + pl.duration(days=pl.when(pl.col("timely")).then(0).otherwise(CFPB_DEADLINE + 1))
        )
    )
    closed = (
        raw.filter(~pl.col("is_open"))
        .group_by("company", period=pl.col("closing").dt.strftime("%Y-%m"))
        .agg(closed=pl.len().cast(pl.Int64), timely=pl.col("timely").sum().cast(pl.Int64))
    )
    last_sent, last_closing = scalar(raw["sent"].max(), date), raw["closing"].max()
    last = _month_end(last_sent if last_closing is None else max(last_sent, scalar(last_closing, date)))
    over = []
    for company, sent in raw.filter(pl.col("is_open")).select("company", "sent").iter_rows():
        end = _month_end(sent)
        while end <= last:
            if (end - sent).days > MAX_OPEN_DAYS:
                over.append((company, f"{end:%Y-%m}"))
            end = _month_end(end + timedelta(days=1))
    open_over = pl.DataFrame(over, schema={"company": pl.String, "period": pl.String}, orient="row")
    open_over = open_over.group_by("company", "period").agg(open_over=pl.len().cast(pl.Int64))
    return (
        closed.join(open_over, on=["company", "period"], how="full", coalesce=True)
        .with_columns(pl.col("closed", "timely", "open_over").fill_null(0))
        .with_columns(share=pl.col("timely") / pl.col("closed"))
        .sort("company", "period")
    )


def timeliness_from_warehouse(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """CPL-002 per company and month (marts.fct_complaint_timeliness): `closed` and `timely` (closed within 15
    days: the indicator's numerator), `share`, `open_over` (open > 60 days), and whether the 15-day rate
    alerts (`warn`) and the open complaints do (`breach`): the rows fct_alerts takes in."""
    rows = con.execute(
        """
        with profile as (select distinct enterprise_id, name from raw.enterprise_profile),
        cpl as (
            select enterprise_id, period,
                max(case when metric = 'closed_within_deadline_rate' then denominator end) as closed,
                max(case when metric = 'closed_within_deadline_rate' then numerator end) as timely,
                max(case when metric = 'open_over_max_days' then numerator end) as open_over,
                bool_or(metric = 'closed_within_deadline_rate' and status in ('WARN', 'BREACH')) as warn,
                bool_or(metric = 'open_over_max_days' and status in ('WARN', 'BREACH')) as breach
            from marts.fct_complaint_timeliness
            group by 1, 2
        )
        select profile.name, cpl.period, cast(cpl.closed as bigint), cast(cpl.timely as bigint),
            cast(cpl.open_over as bigint), cpl.warn, cpl.breach
        from cpl
        inner join profile on cpl.enterprise_id = profile.enterprise_id
        where cpl.enterprise_id like 'PAY5%'
        """
    ).fetchall()
    schema = {**TIMELINESS_SCHEMA, "open_over": pl.Int64, "warn": pl.Boolean, "breach": pl.Boolean}
    return (
        pl.DataFrame(rows, schema=schema, orient="row")
        .with_columns(share=pl.col("timely") / pl.col("closed"))
        .sort("company", "period")
    )


def compare_timeliness(warehouse: pl.DataFrame, raw: pl.DataFrame) -> pl.DataFrame:
    """Every company-month of either side with closed complaints or open ones over 60 days: both sides'
    closed, timely and open_over (`_raw`, `_warehouse`), the warehouse's alerts, `match` when all three
    counts are equal."""
    wh = warehouse.filter((pl.col("closed") > 0) | (pl.col("open_over") > 0))
    both = raw.join(wh, on=["company", "period"], how="full", coalesce=True, suffix="_warehouse")
    both = both.rename({c: f"{c}_raw" for c in ("closed", "timely", "open_over", "share")})
    return both.with_columns(
        pl.col("warn", "breach").fill_null(False),
        match=pl.all_horizontal(
            pl.col(f"{c}_raw").fill_null(0) == pl.col(f"{c}_warehouse").fill_null(0)
            for c in ("closed", "timely", "open_over")
        ),
    ).sort("company", "period")


def timeliness_confusion(both: pl.DataFrame, min_share: float = 0.9) -> dict[str, int]:
    """Company-months with complaints closed by the CFPB's account (closed_raw > 0): the warehouse's CPL-002
    WARN against the CFPB's timely share below `min_share` (the WARN threshold applied to the CFPB's flag),
    and against any complaint the CFPB marks untimely."""
    rows = both.filter(pl.col("closed_raw").fill_null(0) > 0)
    below = pl.col("share_raw") < min_share
    some = pl.col("timely_raw") < pl.col("closed_raw")
    warn = pl.col("warn")
    count = lambda e: rows.filter(e).height  # noqa: E731
    return {
        "company_months": rows.height,
        "warn_and_cfpb_below": count(warn & below),
        "warn_cfpb_not_below": count(warn & ~below),
        "no_warn_cfpb_below": count(~warn & below),
        "no_warn_cfpb_not_below": count(~warn & ~below),
        "warn_and_cfpb_untimely_any": count(warn & some),
        "warn_cfpb_all_timely": count(warn & ~some),
        "no_warn_cfpb_untimely_any": count(~warn & some),
        "no_warn_cfpb_all_timely": count(~warn & ~some),
    }


def complaint_level(con: duckdb.DuckDBPyConnection, data_root: Path) -> pl.DataFrame:
    """Each complaint the warehouse counts as closed in its period (the current version holding its
    closed_at), whether it counts it closed within 15 days (CPL-002's own rule: Shanghai calendar days from
    receipt), against the CFPB's "Timely response?" of the same complaint id: counts by the two flags."""
    rows = con.execute(
        """
        select complaint_id, date_diff('day', received_date_sh, closed_date_sh) <= 15
        from staging.stg_filings__complaints
        where closed_date_sh is not null and enterprise_id like 'PAY5%'
        """
    ).fetchall()
    wh = pl.DataFrame(rows, schema={"complaint_id": pl.String, "warehouse_timely": pl.Boolean}, orient="row")
    flags = _cfpb_raw(data_root, None).select(
        complaint_id=pl.col("Complaint ID"), cfpb_timely=pl.col("Timely response?") == "Yes"
    )
    return (
        wh.join(flags, on="complaint_id", how="left")
        .group_by("warehouse_timely", "cfpb_timely")
        .agg(complaints=pl.len())
        .sort("warehouse_timely", "cfpb_timely")
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
