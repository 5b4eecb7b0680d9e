"""Complaints: received in proportion to active customers, closed within two weeks; the ones still open at
a period end are filed again (closed or not) in the next period."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.contracts import contract
from pipelines.synth.periods import Period
from pipelines.synth.rng import stochastic_round, times_in_day
from pipelines.synth.tables import ids

CHANNELS = contract("complaints").column("channel").values
RESOLUTIONS = ("monetary", "non_monetary", "explanation", "rejected")
TOPICS = {
    "PAY": (
        ("wallet payment", "payment not received by merchant"),
        ("wallet payment", "duplicate charge"),
        ("top-up", "top-up not credited"),
        ("withdrawal", "withdrawal delayed"),
        ("account security", "unauthorised transaction"),
        ("account", "account frozen"),
    ),
    "P2P": (
        ("loan", "interest higher than disclosed"),
        ("loan", "collection practices"),
        ("investment", "repayment delayed"),
        ("investment", "withdrawal delayed"),
        ("account", "information disclosure"),
    ),
    "CF": (
        ("campaign", "reward not delivered"),
        ("campaign", "campaign information misleading"),
        ("donation", "use of funds unclear"),
        ("debt", "repayment delayed"),
        ("account", "refund delayed"),
    ),
    "WM": (
        ("fund subscription", "subscription not confirmed"),
        ("fund redemption", "redemption delayed"),
        ("fund sales", "risk not disclosed"),
        ("fees", "fee higher than disclosed"),
        ("account", "login issue"),
    ),
}
TOPIC_WEIGHTS = (0.3, 0.22, 0.18, 0.14, 0.1, 0.06)


@dataclass
class Complaints:
    """A batch of complaints with their whole life (closing may lie in a later period)."""

    seq: np.ndarray  # numbers within the enterprise (id = C0000001)
    received: np.ndarray  # seconds since 1970-01-01, Shanghai wall clock
    closed: np.ndarray
    channel: np.ndarray
    party: np.ndarray  # -1 anonymous
    topic: np.ndarray
    amount: np.ndarray  # cents, -1 none
    extensions: np.ndarray
    resolution: np.ndarray

    @staticmethod
    def empty() -> Complaints:
        z = np.zeros(0, np.int64)
        return Complaints(z, z, z, z, z, z, z, z, z)

    def take(self, mask: np.ndarray) -> Complaints:
        return Complaints(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))

    def concat(self, other: Complaints) -> Complaints:
        return Complaints(*(np.r_[getattr(self, f), getattr(other, f)] for f in self.__dataclass_fields__))


def receive(
    rng: np.random.Generator,
    period: Period,
    count: int,
    active_parties: np.ndarray,
    start_seq: int,
    ent_type: str,
) -> Complaints:
    """`count` new complaints received in the period."""
    n = count
    day = rng.integers(0, period.ndays, n)
    received = (period.first_ord + day) * 86400 + times_in_day(rng, n, "office", lo=7 * 3600, hi=23 * 3600)
    received = np.sort(received)
    # handled within two weeks, mostly within a few days
    hours = np.clip(np.exp(np.log(96) + 0.8 * rng.standard_normal(n)), 2, 14 * 24 - 1)
    closed = received + (hours * 3600).astype(np.int64)
    party = np.where(
        rng.random(n) < 0.85,
        active_parties[rng.integers(0, max(len(active_parties), 1), n)] if len(active_parties) else -1,
        -1,
    )
    ntop = len(TOPICS[ent_type])
    w = np.array(TOPIC_WEIGHTS[:ntop])
    return Complaints(
        seq=np.arange(start_seq, start_seq + n),
        received=received,
        closed=closed,
        channel=rng.choice(len(CHANNELS), n, p=[0.7, 0.15, 0.05, 0.1]),
        party=party,
        topic=rng.choice(ntop, n, p=w / w.sum()),
        amount=np.where(
            rng.random(n) < 0.6, np.rint(np.exp(np.log(30000) + 1.2 * rng.standard_normal(n))), -1
        ).astype(np.int64),
        extensions=(rng.random(n) < 0.03).astype(np.int64),
        resolution=rng.choice(len(RESOLUTIONS), n, p=[0.2, 0.25, 0.45, 0.1]),
    )


def expected_count(rate_per_10k: float, active_customers: float) -> float:
    """Complaints a month from `active_customers` (a count, or an estimate of one)."""
    return rate_per_10k * active_customers / 10_000


def draw_count(
    rng: np.random.Generator, rate_per_10k: float, active_customers: int, multiplier: float
) -> int:
    return int(stochastic_round(rng, expected_count(rate_per_10k, active_customers) * multiplier))


def table(c: Complaints, period: Period, enterprise_id: str, ent_type: str) -> pl.DataFrame:
    """The complaints filing: closings after the period end are not known yet (in_progress)."""
    end = (period.last_ord + 1) * 86400
    done = c.closed < end
    topics = TOPICS[ent_type]
    df = pl.DataFrame(
        {
            "seq": c.seq + 1,
            "received": c.received * 1_000_000,
            "closed": c.closed * 1_000_000,
            "done": done,
            "amount": c.amount,
            "extension_count": c.extensions,
            "channel": pl.Series([CHANNELS[i] for i in c.channel.tolist()], dtype=pl.String),
            "party_id": ids("party", c.party),
            "product": pl.Series([topics[i][0] for i in c.topic.tolist()], dtype=pl.String),
            "issue": pl.Series([topics[i][1] for i in c.topic.tolist()], dtype=pl.String),
            "final": pl.Series([RESOLUTIONS[r] for r in c.resolution.tolist()], dtype=pl.String),
        }
    )
    return df.select(
        enterprise_id=pl.lit(enterprise_id),
        complaint_id=pl.lit(f"{enterprise_id}-C") + pl.col("seq").cast(pl.String).str.zfill(7),
        received_at=pl.col("received").cast(pl.Datetime("us")),
        channel=pl.col("channel"),
        party_id=pl.col("party_id"),
        product=pl.col("product"),
        issue=pl.col("issue"),
        amount_disputed=pl.when(pl.col("amount") >= 0).then(pl.col("amount")),
        closed_at=pl.when(pl.col("done")).then(pl.col("closed").cast(pl.Datetime("us"))),
        extension_count=pl.col("extension_count"),
        resolution=pl.when(pl.col("done")).then(pl.col("final")).otherwise(pl.lit("in_progress")),
        consumer_disputed=pl.lit(False),
        escalated=pl.lit(False),
    )


def still_open(c: Complaints, period: Period) -> Complaints:
    return c.take(c.closed >= (period.last_ord + 1) * 86400)
