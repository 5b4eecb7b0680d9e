"""What every mapping kind shares (pipelines.mappings.convert: transactions and complaints;
pipelines.mappings.loans: loans): the YAML mappings, the mapped enterprise's profile, own-account balance
rows, and writing one complete package in the format of pipelines.filing_package."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import polars as pl
import yaml

from pipelines.calendar import period_bounds, required_filing_types
from pipelines.contracts import load_contracts
from pipelines.filing_package import writer
from pipelines.filing_package.uscc import make as make_uscc

HERE = Path(__file__).parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
REGION = "310115"  # Shanghai Pudong: the mapped enterprise's and its parties' district
CAPITAL = 100_000_000 * 100  # paid-in capital, cents
OWN = {"RC1": ("RESERVE_CENTRAL", "PBOC"), "OF1": ("OWN_FUNDS", "ICBC")}


def datasets() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.yml"))


def load_config(dataset: str) -> dict:
    path = HERE / f"{dataset}.yml"
    if not path.exists():
        raise ValueError(f"unknown dataset {dataset!r}; known: {datasets()}")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@dataclass
class MapResult:
    dataset: str
    enterprise_id: str
    packages: list[str]
    rows: int


def profile_table(cfg: dict) -> pl.DataFrame:
    eid = cfg["enterprise_id"]
    serial = int(hashlib.sha256(eid.encode()).hexdigest(), 16) % 31**7
    return pl.DataFrame(
        {
            "enterprise_id": [eid],
            "uscc": [make_uscc(REGION, serial)],
            "name": [cfg.get("name", f"{cfg['dataset']} (mapped public dataset)")[:200]],
            "ent_type": [cfg["ent_type"]],
            "licence_no": [f"Z2031{serial:010d}"],
            "province_code": [REGION[:2] + "0000"],
            "custodian_bank_code": pl.Series([None], dtype=pl.String),
            "paid_in_capital": [CAPITAL],
            "report_currency": ["CNY"],
        }
    )


def empty_table(filing_type: str) -> pl.DataFrame:
    """Zero rows with the contract's columns (the source has nothing of this filing type)."""
    return pl.DataFrame(schema={c.name: pl.String for c in load_contracts()[filing_type].columns})


def period_label(d: date) -> str:
    return f"{d:%Y-%m}"


T = TypeVar("T")


def scalar(value: object, kind: type[T]) -> T:
    """`value` (a Series aggregate such as `.min()`, typed as any Python literal) as the `kind` its
    column holds; a TypeError otherwise (None of an empty or all-null column included)."""
    if not isinstance(value, kind):
        raise TypeError(f"expected a {kind.__name__}, got {value!r}")
    return value


BALANCE_COLUMNS = (
    "account_id",
    "biz_date",
    "opening",
    "credits",
    "debits",
    "closing",
    "bank_confirmed_closing",
)


def period_days(label: str) -> list[date]:
    """Every day of period `label` (YYYY-MM)."""
    p_first, p_last = period_bounds(label)
    return [p_first + timedelta(days=k) for k in range((p_last - p_first).days + 1)]


def daily_balances(
    account_id: str, days: list[date], start: int, flows: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Daily balance rows of an own account (BALANCE_COLUMNS, bank-confirmed = closing): opening `start` on
    the first day, then each day's credits and debits from `flows` (columns day, credits, debits; none: a
    constant balance)."""
    grid = pl.DataFrame({"biz_date": days})
    if flows is None:
        moved = grid.with_columns(credits=pl.lit(0, dtype=pl.Int64), debits=pl.lit(0, dtype=pl.Int64))
    else:
        moved = grid.join(flows, left_on="biz_date", right_on="day", how="left").fill_null(0)
    return (
        moved.sort("biz_date")
        .with_columns(closing=start + (pl.col("credits") - pl.col("debits")).cum_sum())
        .with_columns(
            account_id=pl.lit(account_id),
            opening=pl.col("closing") - pl.col("credits") + pl.col("debits"),
            bank_confirmed_closing="closing",
        )
        .select(BALANCE_COLUMNS)
    )


def write_package(landing: Path, eid: str, ent_type: str, label: str, tables: dict[str, pl.DataFrame]) -> str:
    """One complete first version: every owed filing type (zero rows where `tables` has none), manifest
    last, delivered two days after the period end (on time)."""
    sid = f"{eid}-{label}-v1"
    files = [
        writer.encode(ft, tables.get(ft, empty_table(ft)), compress=False)
        for ft in required_filing_types()[ent_type]
    ]
    head = {
        "spec_version": "1.0",
        "submission_id": sid,
        "enterprise_id": eid,
        "period": label,
        "version": 1,
        "supersedes": None,
    }
    _, p_last = period_bounds(label)
    writer.write(
        landing / eid / sid, head, files, datetime.combine(p_last + timedelta(days=2), time(10), SHANGHAI)
    )
    return sid


def month_starts(first: date, last_first: date) -> list[date]:
    out, d = [], first
    while d <= last_first:
        out.append(d)
        d = date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return out
