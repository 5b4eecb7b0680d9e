"""kind `loans` (LendingClub): loan-level rows -> one P2P package, the month-end loan snapshot of the
configured period, with one p2p_loan investment position per loan, borrower and investor parties and the
minimal own books (convert._own_books). Mapping of loan_status: lendingclub.yml."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from pipelines.calendar import period_bounds
from pipelines.mappings.convert import REGION, MapResult, _own_books, _profile, _write
from pipelines.synth.identity import id_hash


def status_table(cfg: dict) -> pl.DataFrame:
    """loan_status -> status, days_past_due (from the YAML: the one place the mapping lives)."""
    return pl.DataFrame(
        [{"loan_status": k, **v} for k, v in cfg["status"]["values"].items()],
        schema={"loan_status": pl.String, "status": pl.String, "days_past_due": pl.Int64},
    )


def read_loans(cfg: dict, data_root: Path, limit: int | None = None) -> pl.DataFrame:
    """src_row, origination_date, term, cents, status, days_past_due of the raw rows (known statuses)."""
    raw = pl.read_csv(data_root / cfg["source"], n_rows=limit, infer_schema_length=10_000)
    raw = raw.with_row_index("src_row", offset=1).with_columns(
        pl.col(cfg["status"]["column"]).alias("loan_status")
    )
    cents = lambda c: (pl.col(c).cast(pl.Float64) * 100).round(0).cast(pl.Int64)  # noqa: E731
    return raw.join(status_table(cfg), on="loan_status", how="inner").select(
        "src_row",
        "status",
        "days_past_due",
        origination_date=pl.col(cfg["issue"]["column"]).str.to_date(cfg["issue"]["format"]),
        term=pl.col("term").cast(pl.Int64),
        apr=(pl.col("interest_rate").cast(pl.Float64) / 100).round(6),
        principal=cents("loan_amount"),
        balance=cents("balance"),
    )


def loan_packages(cfg: dict, data_root: Path, landing: Path, limit: int | None = None) -> MapResult:
    eid, label = cfg["enterprise_id"], cfg["period"]
    _, p_last = period_bounds(label)
    src = read_loans(cfg, data_root, limit)
    open_ = pl.col("status").is_in(["current", "overdue"])
    row = pl.col("src_row").cast(pl.String).str.zfill(6)
    zero = pl.lit(0, dtype=pl.Int64)
    loans = src.select(
        enterprise_id=pl.lit(eid),
        loan_id=pl.lit(f"{eid}-L") + row,
        as_of_date=pl.lit(p_last),
        borrower_party_id=pl.lit("B") + row,
        contract_principal="principal",
        disbursed_amount="principal",
        origination_date="origination_date",
        maturity_date=pl.col("origination_date").dt.offset_by(pl.col("term").cast(pl.String) + "mo"),
        apr_contract="apr",
        apr_comprehensive="apr",
        outstanding_principal=pl.when(open_).then("balance").otherwise(zero),
        overdue_principal=pl.when(pl.col("status") == "overdue").then("balance").otherwise(zero),
        days_past_due="days_past_due",
        principal_due_in_period=zero,
        principal_due_next_30d=zero,
        written_off_in_period=pl.when(pl.col("status") == "written_off").then("balance").otherwise(zero),
        written_off_amount=pl.when(pl.col("status") == "written_off").then("balance").otherwise(zero),
        recovered_in_period=zero,
        status="status",
        credit_reported=pl.lit(True),
    )
    investments = loans.filter(pl.col("outstanding_principal") > 0).select(
        "enterprise_id",
        "as_of_date",
        "loan_id",
        investment_id=pl.lit(f"{eid}-I") + pl.col("loan_id").str.slice(len(eid) + 2),
        investor_party_id=pl.lit("I") + pl.col("loan_id").str.slice(len(eid) + 2),
        product_type=pl.lit("p2p_loan"),
        campaign_id=pl.lit(None, dtype=pl.String),
        principal="outstanding_principal",
        start_date="origination_date",
        term_days=(pl.col("maturity_date") - pl.col("origination_date")).dt.total_days(),
        redemption_requested=pl.lit(None, dtype=pl.Int64),
    )
    first_day: date = src["origination_date"].min()
    keys = pl.concat([loans.select(key="borrower_party_id"), investments.select(key="investor_party_id")])
    parties = keys.select(
        enterprise_id=pl.lit(eid),
        party_id="key",
        party_type=pl.lit("natural"),
        id_hash=pl.col("key").map_elements(
            lambda k: id_hash("CN_ID", f"lendingclub:{k}"), return_dtype=pl.String
        ),
        sector_code=pl.lit(None, dtype=pl.String),
        region_code=pl.lit(REGION),
        country=pl.lit("CN"),
        is_related_party=pl.lit(False),
        kyc_class=pl.lit("III"),
        dishonest_flag=pl.lit(False),
        onboard_date=pl.lit(first_day),
    )
    # a platform's own books: the custody summary account (zero; investors' money is not in the data) at
    # the custodian bank, and own funds; no liquidity return (not owed by P2P)
    books = _own_books(eid, label, first_day.replace(year=first_day.year - 1))
    books.pop("liquidity")
    custody = pl.col("account_id") == "RC1"
    books["accounts"] = books["accounts"].with_columns(
        account_class=pl.when(custody).then(pl.lit("CUSTODY_SUMMARY")).otherwise("account_class"),
        bank_code=pl.when(custody).then(pl.lit(cfg["custodian_bank"])).otherwise("bank_code"),
    )
    profile = _profile(cfg).with_columns(custodian_bank_code=pl.lit(cfg["custodian_bank"]))
    tables = {
        "enterprise_profile": profile,
        "parties": parties,
        "loans": loans,
        "investments": investments,
        **books,
    }
    sid = _write(landing, eid, cfg["ent_type"], label, tables)
    return MapResult(cfg["dataset"], eid, [sid], loans.height)
