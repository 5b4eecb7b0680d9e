"""Large-value transaction reports (PBOC Order [2016] No. 3): every ok customer leg that is large-value on
its own or within its party's day total (per side and kind) is reported within a few calendar days (always
within 5 working days), in this period's aml_reports or, for the last days of a period, the next one's.

Suspicious transaction reports (STR): the enterprise's own monitoring raises every party that moved at least
ST_FLOOR both in and out on its ok customer legs of the period, and the enterprise files an STR on a seeded
share of them — at least one whenever its rule raised any — covering the party's largest legs of the
period, filed within the period (so STRs only name transactions of their own submission)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.synth.books import PartyBook
from pipelines.synth.business.common import T_CASH, T_LEGAL, T_NATURAL, T_NATURAL_XB
from pipelines.synth.ledger import CH
from pipelines.synth.periods import Period
from pipelines.synth.tables import dates, ids


@dataclass
class Reports:
    report: np.ndarray  # report number within the enterprise
    txn_id: list[str]
    party: np.ndarray
    detected: np.ndarray  # ordinal
    submitted: np.ndarray

    @staticmethod
    def empty() -> Reports:
        z = np.zeros(0, np.int64)
        return Reports(z, [], z, z, z)

    def take(self, m: np.ndarray) -> Reports:
        return Reports(
            self.report[m],
            [t for t, k in zip(self.txn_id, m.tolist(), strict=True) if k],
            self.party[m],
            self.detected[m],
            self.submitted[m],
        )

    def concat(self, o: Reports) -> Reports:
        return Reports(
            np.r_[self.report, o.report],
            self.txn_id + o.txn_id,
            np.r_[self.party, o.party],
            np.r_[self.detected, o.detected],
            np.r_[self.submitted, o.submitted],
        )


def large_value(legs: pl.DataFrame, parties: PartyBook) -> pl.DataFrame:
    """Large-value legs: (txn_no, txn_id, party, day, group) — one group per party, side, day and kind."""
    ok = legs.filter(pl.col("cust") & ~pl.col("failed"))
    parts = []
    for side in ("payer", "payee"):
        parts.append(
            ok.filter(pl.col(side) >= 0).select(
                "txn_no", "txn_id", "day", "amt", "ch", "xb", party=pl.col(side), side=pl.lit(side)
            )
        )
    df = pl.concat(parts)
    if df.height == 0:
        return df.select("txn_no", "txn_id", "party", "day").with_columns(group=pl.lit(0, pl.Int64))
    df = df.with_columns(legal=pl.Series(parties.kind[df["party"].to_numpy()] == 1))
    df = df.with_columns(
        kind=pl.when(pl.col("ch") == CH["cash"]).then(0).when(pl.col("xb")).then(1).otherwise(2),
    ).with_columns(
        threshold=pl.when(pl.col("kind") == 0)
        .then(T_CASH)
        .when(pl.col("legal"))
        .then(T_LEGAL)
        .when(pl.col("kind") == 1)
        .then(T_NATURAL_XB)
        .otherwise(T_NATURAL),
    )
    keys = ["party", "side", "day", "kind"]
    big = df.with_columns(total=pl.col("amt").sum().over(keys)).filter(
        (pl.col("amt") >= pl.col("threshold")) | (pl.col("total") >= pl.col("threshold"))
    )
    big = big.sort("day", "party", "side", "kind", "txn_no").unique(
        ["txn_no", "party"], keep="first", maintain_order=True
    )
    return (
        big.with_columns(group=pl.struct(keys).rank("dense").cast(pl.Int64))
        .select("txn_no", "txn_id", "party", "day", "group")
        .sort("group", "txn_no")
    )


def report(
    rng: np.random.Generator,
    legs: pl.DataFrame,
    parties: PartyBook,
    period: Period,
    *,
    start_seq: int,
    last_period: bool,
) -> tuple[Reports, Reports, int]:
    """(reports submitted in this period, reports carried to the next period, next report number)."""
    big = large_value(legs, parties)
    groups = big["group"].to_numpy()
    n_groups = int(groups.max()) if len(groups) else 0
    detect_lag = rng.integers(0, 2, n_groups)
    submit_lag = rng.integers(0, 2, n_groups)
    g = groups - 1
    detected = period.first_ord + big["day"].to_numpy() + detect_lag[g]
    submitted = detected + submit_lag[g]
    if last_period:  # nothing comes after: report by the period end
        submitted = np.minimum(submitted, period.last_ord)
        detected = np.minimum(detected, submitted)
    r = Reports(start_seq + g, big["txn_id"].to_list(), big["party"].to_numpy(), detected, submitted)
    now = r.submitted <= period.last_ord
    return r.take(now), r.take(~now), start_seq + n_groups


ST_FLOOR = 5_000_000  # fen: CNY 50,000 moved both in and out in the period raises a party for review
ST_SHARE = 0.05  # of the raised parties, the share reported (at least one, at most ST_MAX)
ST_MAX = 10
ST_ROWS = 5  # the reported party's largest legs of the period, one row each


def suspicious(
    rng: np.random.Generator, legs: pl.DataFrame, period: Period, *, start_seq: int
) -> tuple[Reports, int]:
    """(this period's STRs, next STR number): one report per reported party, detected one to three days
    after its last reported leg and submitted within two days, both by the period end."""
    ok = legs.filter(pl.col("cust") & ~pl.col("failed"))
    sides = pl.concat(
        [
            ok.select("txn_no", "txn_id", "day", "amt", party=pl.col("payee"), into=pl.col("amt"), out=0),
            ok.select("txn_no", "txn_id", "day", "amt", party=pl.col("payer"), into=0, out=pl.col("amt")),
        ],
        how="vertical_relaxed",
    ).filter(pl.col("party") >= 0)
    flows = sides.group_by("party").agg(pl.col("into").sum(), pl.col("out").sum())
    raised = np.sort(flows.filter(pl.min_horizontal("into", "out") >= ST_FLOOR)["party"].to_numpy())
    if len(raised) == 0:
        return Reports.empty(), start_seq
    n = min(ST_MAX, len(raised), max(1, int(rng.binomial(len(raised), ST_SHARE))))
    chosen = np.sort(rng.choice(raised, n, replace=False))
    rows = (
        sides.filter(pl.col("party").is_in(chosen.tolist()))
        .unique(["party", "txn_no"])
        .sort(["party", "amt", "txn_no"], descending=[False, True, False])
        .group_by("party", maintain_order=True)
        .head(ST_ROWS)
        .sort("party", "txn_no")
    )
    party = rows["party"].to_numpy()
    k = np.searchsorted(chosen, party)  # report number within the period
    last_day = rows.group_by("party", maintain_order=True).agg(pl.col("day").max())["day"].to_numpy()
    detected = np.minimum(period.first_ord + last_day + rng.integers(1, 4, n), period.last_ord)
    submitted = np.minimum(detected + rng.integers(0, 3, n), period.last_ord)
    r = Reports(start_seq + k, rows["txn_id"].to_list(), party, detected[k], submitted[k])
    return r, start_seq + n


def table(r: Reports, enterprise_id: str, report_type: str = "LVTR") -> pl.DataFrame:
    prefix, rule = ("LV", "LV-T") if report_type == "LVTR" else ("ST", "ST-IO")
    return pl.DataFrame(
        {
            "enterprise_id": pl.Series([enterprise_id] * len(r.txn_id), dtype=pl.String),
            "report_id": pl.Series(
                [f"{enterprise_id}-{prefix}{k + 1:06d}" for k in r.report.tolist()], dtype=pl.String
            ),
            "report_type": pl.Series([report_type] * len(r.txn_id), dtype=pl.String),
            "txn_id": pl.Series(r.txn_id, dtype=pl.String),
            "party_id": ids("party", r.party),
            "rule_code": pl.Series([rule] * len(r.txn_id), dtype=pl.String),
            "detected_date": dates(r.detected),
            "submitted_date": dates(r.submitted),
        }
    )
