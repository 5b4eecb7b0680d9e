"""The reference filings: enterprise profile, parties, accounts; and the daily liquidity return."""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.synth.books import ACCOUNT_CLASSES, KYC, AccountBook, PartyBook
from pipelines.synth.identity import COUNTRIES, SECTORS
from pipelines.synth.periods import Period
from pipelines.synth.population import EnterprisePlan
from pipelines.synth.tables import dates, gather, ids, nullable_dates


def profile(plan: EnterprisePlan) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "enterprise_id": [plan.enterprise_id],
            "uscc": [plan.uscc],
            "name": [plan.name],
            "ent_type": [plan.ent_type],
            "licence_no": [plan.licence_no],
            "province_code": [plan.province_code],
            "custodian_bank_code": pl.Series([plan.custodian_bank], dtype=pl.String),
            "paid_in_capital": [plan.paid_in_capital],
            "report_currency": ["CNY"],
        }
    )


def parties(book: PartyBook, period: Period, plan: EnterprisePlan) -> pl.DataFrame:
    keep = np.flatnonzero(book.onboard <= period.last_ord)
    kind = book.kind[keep]
    kyc = np.where((kind == 0) & (plan.ent_type == "PAY"), book.kyc[keep], -1)
    region = book.region[keep]
    return pl.DataFrame(
        {
            "enterprise_id": pl.Series([plan.enterprise_id] * len(keep), dtype=pl.String),
            "party_id": ids("party", keep),
            "party_type": pl.Series(np.where(kind == 0, "natural", "legal")),
            "id_hash": pl.Series([book.id_hash[i] for i in keep.tolist()], dtype=pl.String),
            "sector_code": gather(SECTORS, np.where(kind == 1, book.sector[keep], -1)),
            "region_code": pl.select(
                pl.when(pl.Series(region) > 0).then(pl.Series(region).cast(pl.String))
            ).to_series(),
            "country": gather(COUNTRIES, book.country[keep]),
            "is_related_party": book.related[keep],
            "kyc_class": gather(KYC, kyc),
            "dishonest_flag": book.dishonest[keep],
            "onboard_date": dates(book.onboard[keep]),
        }
    )


def accounts(
    book: AccountBook,
    period: Period,
    enterprise_id: str,
    last_activity: np.ndarray,
    campaign_ids: pl.Series | None = None,
) -> pl.DataFrame:
    """Accounts open by the period end; last_activity is each account's last ok leg before the period."""
    keep = np.flatnonzero(book.open <= period.last_ord)
    names = book.name
    last_activity = np.concatenate([last_activity, np.full(len(book) - len(last_activity), -1)])
    last = np.where(last_activity[keep] < period.first_ord, last_activity[keep], -1)
    return pl.DataFrame(
        {
            "enterprise_id": pl.Series([enterprise_id] * len(keep), dtype=pl.String),
            "account_id": pl.Series([names[i] for i in keep.tolist()], dtype=pl.String),
            "owner_party_id": ids("party", book.owner[keep]),
            "account_class": gather(ACCOUNT_CLASSES, book.cls[keep]),
            "parent_account_id": gather(names, book.parent[keep]),
            "campaign_id": ids("camp", book.campaign[keep]),
            "bank_code": pl.Series([book.bank[i] for i in keep.tolist()], dtype=pl.String),
            "currency": pl.Series(["CNY"] * len(keep), dtype=pl.String),
            "open_date": dates(book.open[keep]),
            "last_activity_date": nullable_dates(last),
        }
    )


def liquidity(
    period: Period,
    enterprise_id: str,
    customer_total: np.ndarray,
    own_funds: np.ndarray,
    opex_daily: int,
    fee_income: int,
    *,
    stable_share: float,
    aum: np.ndarray | None = None,
    net_redemptions: np.ndarray | None = None,
) -> pl.DataFrame:
    """Daily: HQLA = customer money at the reserve/custody bank plus half the own funds; the 30-day outflows
    are operating costs; customer balances split into stable and less stable parts."""
    nd = period.ndays
    stable = (customer_total * stable_share).astype(np.int64)
    df = pl.DataFrame(
        {
            "enterprise_id": pl.Series([enterprise_id] * nd, dtype=pl.String),
            "as_of_date": dates(period.first_ord + np.arange(nd)),
            "hqla": customer_total + own_funds // 2,
            "outflows_30d": np.full(nd, 30 * opex_daily, np.int64),
            "inflows_30d": np.full(nd, int(fee_income * 30 / nd), np.int64),
            "customer_bal_stable": stable,
            "customer_bal_less_stable": customer_total - stable,
        }
    )
    if aum is not None:
        df = df.with_columns(
            aum=pl.Series(aum, dtype=pl.Int64), net_redemptions=pl.Series(net_redemptions, dtype=pl.Int64)
        )
    return df
