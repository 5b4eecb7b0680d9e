"""When packages arrive: on time between the 1st and 9th day after the period end; a corrected version
a few days after a broken one (still on time); late ones 1-10 days after the due time."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from pipelines.synth.periods import SHANGHAI, Period


def _day_start(period: Period, k: int) -> datetime:
    """09:00 Shanghai on the k-th day after the period end (k >= 1)."""
    return datetime.combine(
        period.last + timedelta(days=k), datetime.min.time(), tzinfo=SHANGHAI
    ) + timedelta(hours=9)


def on_time(rng: np.random.Generator, period: Period) -> datetime:
    return _day_start(period, int(rng.integers(1, 10))) + timedelta(seconds=int(rng.integers(0, 12 * 3600)))


def broken_then_fixed(rng: np.random.Generator, period: Period) -> tuple[datetime, datetime]:
    v1 = _day_start(period, int(rng.integers(1, 6))) + timedelta(seconds=int(rng.integers(0, 10 * 3600)))
    latest = _day_start(period, 9) + timedelta(hours=12)
    v2 = min(v1 + timedelta(days=int(rng.integers(1, 4)), seconds=int(rng.integers(600, 4 * 3600))), latest)
    return v1, v2


def late(rng: np.random.Generator, period: Period, ent_type: str) -> datetime:
    return period.due_at(ent_type) + timedelta(seconds=int(rng.integers(86400, 10 * 86400)))
