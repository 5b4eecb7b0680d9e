"""Random streams and samplers: one independent stream per (seed, enterprise, period, purpose)."""

from __future__ import annotations

import zlib

import numpy as np


class Stream(np.random.Generator):
    """A numpy generator that also carries one Weyl sequence (see `weyl`)."""

    weyl_start: float | None = None
    weyl_next: int = 0


def stream(seed: int, *keys: int | str) -> Stream:
    """An independent generator for the given keys (strings hashed with crc32): deterministic per seed."""
    ints = [int(seed)] + [zlib.crc32(k.encode()) if isinstance(k, str) else int(k) for k in keys]
    return Stream(np.random.PCG64(np.random.SeedSequence(ints)))


GOLDEN = (5**0.5 - 1) / 2


def benford_mantissa(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """Keep each value's order of magnitude, give it an evenly spread log-mantissa (a Weyl sequence with a
    random start, in random order): first digits then follow Benford's law closely even in small samples."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n == 0:
        return x
    return 10.0 ** (np.floor(np.log10(np.maximum(x, 1e-9))) + weyl(rng, n))


def child(rng: np.random.Generator, name: str) -> Stream:
    """A stream derived from another (deterministically): one per kind of amount keeps each kind's Weyl
    sequence contiguous, so each kind of amount follows Benford's law on its own."""
    return stream(int(rng.integers(2**62)), name)


def weyl(rng: np.random.Generator, n: int) -> np.ndarray:
    """n evenly spread fractions in [0, 1), in random order. With a `Stream` the fractions continue one
    sequence over all calls, so everything drawn from one stream (a month of an enterprise) is evenly
    spread as a whole, however small each call."""
    if isinstance(rng, Stream):
        if rng.weyl_start is None:
            rng.weyl_start = float(rng.random())
        k = np.arange(rng.weyl_next, rng.weyl_next + n)
        rng.weyl_next += n
        return ((rng.weyl_start + GOLDEN * k) % 1.0)[rng.permutation(n)]
    return ((rng.random() + GOLDEN * np.arange(n)) % 1.0)[rng.permutation(n)]


def decade_uniform(
    rng: np.random.Generator, center: np.ndarray | float, n: int | None = None, width: float = 1.0
) -> np.ndarray:
    """Log-uniform over `width` decades around `center`, evenly spread (a full decade: Benford first digits
    with a bounded spread)."""
    center = np.asarray(center, dtype=float)
    n = n if n is not None else center.size
    return center * 10.0 ** (width * (weyl(rng, n) - 0.5))


def benford_below(rng: np.random.Generator, cap: np.ndarray) -> np.ndarray:
    """Amounts between a tenth of `cap` and `cap` (log-uniform, Benford first digits)."""
    cap = np.asarray(cap, dtype=float)
    return cap * 10.0 ** (-weyl(rng, cap.size))


def lognormal_mix(
    rng: np.random.Generator, n: int, comps: tuple[tuple[float, float, float], ...]
) -> np.ndarray:
    """n amounts in CNY (float) from a mixture of log-normals given as (median, sigma, weight)."""
    w = np.array([c[2] for c in comps], dtype=float)
    k = rng.choice(len(comps), size=n, p=w / w.sum())
    med = np.array([c[0] for c in comps])[k]
    sig = np.array([c[1] for c in comps])[k]
    return benford_mantissa(rng, med * np.exp(sig * rng.standard_normal(n)))


def to_cents(cny: np.ndarray, minimum: int = 1) -> np.ndarray:
    return np.maximum(np.rint(np.asarray(cny, dtype=float) * 100).astype(np.int64), minimum)


def poisson_counts(rng: np.random.Generator, lam: np.ndarray) -> np.ndarray:
    return rng.poisson(np.maximum(lam, 0.0))


def weighted_pick(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """n indices drawn with replacement proportional to weights (zero weight never drawn)."""
    cdf = np.cumsum(weights, dtype=float)
    if n == 0 or cdf[-1] <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right"), len(weights) - 1)


# Hour-of-day profiles (Shanghai): relative activity per hour.
HOURS = {
    "retail": np.array(
        [
            1.2,
            0.6,
            0.3,
            0.2,
            0.2,
            0.3,
            0.8,
            2.0,
            3.5,
            4.0,
            4.2,
            4.8,
            6.0,
            5.2,
            4.5,
            4.3,
            4.4,
            4.8,
            5.6,
            6.2,
            6.5,
            5.8,
            4.0,
            2.2,
        ]
    ),
    "office": np.array(
        [
            0.3,
            0.15,
            0.1,
            0.1,
            0.1,
            0.2,
            0.5,
            1.5,
            4.0,
            6.0,
            6.5,
            6.0,
            4.0,
            4.5,
            6.0,
            6.2,
            5.8,
            4.5,
            3.0,
            2.5,
            2.2,
            1.8,
            1.2,
            0.6,
        ]
    ),
}
# Day-of-week factors, Monday first.
WEEKDAYS = {
    "retail": np.array([0.92, 0.93, 0.95, 0.97, 1.08, 1.15, 1.0]),
    "office": np.array([1.1, 1.08, 1.05, 1.05, 1.07, 0.82, 0.83]),
}


def day_factors(rng: np.random.Generator, first_ord: int, ndays: int, profile: str) -> np.ndarray:
    """Relative daily volume: weekday pattern x month-start/payday bumps x mild noise (mean about 1)."""
    days = np.arange(ndays)
    dow = (first_ord + days + 3) % 7  # 1970-01-01 was a Thursday
    f = WEEKDAYS[profile][dow]
    dom = days + 1
    f = f * np.where((dom == 1) | (dom == 10) | (dom == 15) | (dom == 25), 1.12, 1.0)
    return f * np.exp(0.06 * rng.standard_normal(ndays))


def times_in_day(rng: np.random.Generator, n: int, profile: str, lo: int = 0, hi: int = 86399) -> np.ndarray:
    """Seconds after midnight following the hour profile, clipped to [lo, hi]."""
    p = HOURS[profile] / HOURS[profile].sum()
    h = rng.choice(24, size=n, p=p)
    return np.clip(h * 3600 + rng.integers(0, 3600, size=n), lo, hi)


def stochastic_round(rng: np.random.Generator, x: np.ndarray | float) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    base = np.floor(x)
    return (base + (rng.random(x.shape) < (x - base))).astype(np.int64)
