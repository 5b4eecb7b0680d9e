"""Finalise a period's legs: outage shifts, time order, ids, and the transactions filing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import polars as pl

from pipelines.synth.identity import COUNTRIES, SECTORS
from pipelines.synth.ledger import CHANNELS, PURPOSES, Ledger
from pipelines.synth.periods import Period
from pipelines.synth.tables import dates, gather, ids, nullable

SHIFT_SPREAD = 900  # seconds: legs that fell into an outage are booked within 15 minutes after it


def finalize(
    lg: Ledger, *, enterprise_id: str, period: Period, outages: Sequence[tuple[int, int]] = ()
) -> pl.DataFrame:
    """Legs in booking order with txn/event numbers and ids. `outages` are (start, end) seconds after the
    period's first midnight during which nothing could be booked: legs in them move just after the end."""
    c = lg.columns()
    n = len(c["ev"])
    t = c["t"].copy()
    for start, end in outages:
        m = (t >= start) & (t < end) & ~c["failed"]  # failed attempts are what the outage left
        t[m] = np.minimum(end + (t[m] - start) % SHIFT_SPREAD, (end // 86400) * 86400 + 86399)
    order = np.lexsort((np.arange(n), c["ev"], t))
    cols = {k: v[order] for k, v in c.items()}
    cols["t"] = t[order]
    inverse = np.empty(n, np.int64)
    inverse[order] = np.arange(n)
    rev = cols["rev"]
    cols["rev"] = np.where(rev >= 0, inverse[np.maximum(rev, 0)], -1)
    new_event = np.ones(n, bool)
    if n:
        new_event[1:] = cols["ev"][1:] != cols["ev"][:-1]
    cols["ev_no"] = np.cumsum(new_event)
    cols["txn_no"] = np.arange(1, n + 1)
    cols["day"] = cols["t"] // 86400
    df = pl.DataFrame(cols)
    prefix = f"{enterprise_id}-T{period.yymm}-"
    txn_id = pl.lit(prefix) + pl.col("txn_no").cast(pl.String).str.zfill(7)
    return df.with_columns(
        txn_id=txn_id,
        event_id=pl.lit(f"{enterprise_id}-E{period.yymm}-") + pl.col("ev_no").cast(pl.String).str.zfill(7),
        rev_id=pl.when(pl.col("rev") >= 0).then(
            pl.lit(prefix) + (pl.col("rev") + 1).cast(pl.String).str.zfill(7)
        ),
    )


def transactions_table(
    legs: pl.DataFrame, *, enterprise_id: str, period: Period, account_names: list[str]
) -> pl.DataFrame:
    """The transactions filing (typed: money in cents) from finalised legs."""
    start = datetime.combine(period.first, datetime.min.time())
    n = legs.height
    booked = pl.Series(np.full(n, np.datetime64(start, "us"))) + pl.Series(
        legs["t"].to_numpy() * 1_000_000
    ).cast(pl.Duration("us"))
    return pl.DataFrame(
        {
            "enterprise_id": pl.Series([enterprise_id] * n, dtype=pl.String),
            "txn_id": legs["txn_id"],
            "event_id": legs["event_id"],
            "leg": pl.Series(np.where(legs["cust"].to_numpy(), "customer", "bank")),
            "booked_at": booked,
            "value_date": dates(period.first_ord + legs["day"].to_numpy()),
            "debit_account_id": gather(account_names, legs["dr"].to_numpy()),
            "credit_account_id": gather(account_names, legs["cr"].to_numpy()),
            "payer_party_id": ids("party", legs["payer"].to_numpy()),
            "payee_party_id": ids("party", legs["payee"].to_numpy()),
            "amount": legs["amt"],
            "currency": pl.Series(["CNY"] * n, dtype=pl.String),
            "amount_cny": legs["amt"],
            "channel": gather(CHANNELS, legs["ch"].to_numpy()),
            "purpose": gather(PURPOSES, legs["pur"].to_numpy()),
            "principal_part": nullable(legs["pp"].to_numpy()),
            "interest_part": nullable(legs["ip"].to_numpy()),
            "fee_part": nullable(legs["fp"].to_numpy()),
            "loan_id": ids("loan", legs["loan"].to_numpy()),
            "investment_id": ids("inv", legs["inv"].to_numpy()),
            "campaign_id": ids("camp", legs["camp"].to_numpy()),
            "is_cross_border": legs["xb"],
            "cp_country": gather(COUNTRIES, legs["cpc"].to_numpy()),
            "cp_region": pl.select(pl.when(legs["cpr"] >= 0).then(legs["cpr"].cast(pl.String))).to_series(),
            "cp_sector": gather(SECTORS, legs["cps"].to_numpy()),
            "status": pl.Series(np.where(legs["failed"].to_numpy(), "failed", "ok")),
            "reverses_txn_id": legs["rev_id"],
        }
    )
