"""Building blocks of the generator: exact splits, band avoidance, Benford-friendly amounts, the leg store."""

from __future__ import annotations

import numpy as np

from pipelines.filing_package.identity import id_hash
from pipelines.synth.business.common import (
    T_LEGAL,
    T_NATURAL,
    T_NATURAL_XB,
    avoid_bands,
    avoid_bands_up,
    group_cumsum,
    split_proportional,
)
from pipelines.synth.ledger import COLUMNS, Ledger
from pipelines.synth.periods import add_months, ordinal, period_of
from pipelines.synth.rng import benford_mantissa, decade_uniform, stream


def test_split_proportional_is_exact() -> None:
    rng = np.random.default_rng(0)
    group = np.sort(rng.integers(0, 50, 400))
    weights = rng.integers(1, 10**7, 400)
    total = rng.integers(0, 10**8, 50)
    total[np.bincount(group, minlength=50) == 0] = 0
    parts = split_proportional(total, weights, group)
    assert (np.bincount(group, weights=parts, minlength=50).astype(np.int64) == total).all()
    assert (parts >= 0).all()
    # splitting a group's whole weight gives each member exactly its weight
    whole = np.bincount(group, weights=weights, minlength=50).astype(np.int64)
    assert (split_proportional(whole, weights, group) == weights).all()


def test_group_cumsum() -> None:
    g = np.array([0, 0, 1, 1, 1, 3])
    v = np.array([1, 2, 3, 4, 5, 6])
    assert group_cumsum(g, v).tolist() == [1, 3, 3, 7, 12, 6]


def test_band_avoidance() -> None:
    bands = [(int(0.8 * t), t) for t in (T_LEGAL, T_NATURAL)]
    x = np.array([lo + 1 for lo, _ in bands] + [hi - 1 for _, hi in bands] + [1_000, T_NATURAL, 17_000_000])
    down, up = avoid_bands(x, False), avoid_bands_up(x, False)
    for lo, hi in bands:
        assert not ((down >= lo) & (down < hi)).any() and not ((up >= lo) & (up < hi)).any()
    assert (down <= x).all() and (up >= x).all()
    assert down[-3:].tolist() == [1_000, T_NATURAL, 17_000_000]  # outside every band: untouched
    xb = np.array([int(0.9 * T_NATURAL_XB)])
    assert avoid_bands(xb, True)[0] < 0.8 * T_NATURAL_XB and avoid_bands(xb, False)[0] == xb[0]


def test_amounts_follow_benford() -> None:
    rng = stream(0, "test")
    x = np.concatenate(
        [benford_mantissa(rng, 50 * np.exp(0.3 * rng.standard_normal(k))) for k in (1, 2, 3, 5) * 100]
    )
    digits = (x / 10 ** np.floor(np.log10(x))).astype(int)
    freq = np.bincount(digits, minlength=10)[1:10] / len(digits)
    assert np.abs(freq - np.log10(1 + 1 / np.arange(1, 10))).mean() < 0.005
    y = decade_uniform(rng, 1000.0, 500)
    assert y.min() >= 1000 / 10**0.5 and y.max() < 1000 * 10**0.5


def test_ledger_broadcasts_and_defaults() -> None:
    lg = Ledger()
    ev = lg.new_events(3)
    lg.add(ev=ev, cust=True, t=[1, 2, 3], amt=np.array([100, 200, 300]), ch=0, pur=1, dr=7)
    lg.add(ev=ev[:1], cust=False, t=5, amt=[400, 500], ch=1, pur=2)  # length-1 arrays broadcast
    cols = lg.columns()
    assert set(cols) == set(COLUMNS)
    assert cols["dr"].tolist() == [7, 7, 7, -1, -1]
    assert cols["ev"].tolist() == [0, 1, 2, 0, 0]
    assert cols["failed"].tolist() == [False] * 5


def test_id_hash_normalises_identifier() -> None:
    assert id_hash("CN_ID", " 11010519491231002x ") == id_hash("CN_ID", "11010519491231002X")
    assert len(id_hash("USCC", "91310115MA1K000190")) == 64


def test_calendar() -> None:
    p = period_of("2026-10")
    assert (p.first.isoformat(), p.last.isoformat(), p.ndays) == ("2026-10-01", "2026-10-31", 31)
    assert p.due_at("PAY").isoformat() == "2026-11-10T23:59:59+08:00"
    jan31 = ordinal(period_of("2026-01").last)
    assert add_months(np.array([jan31]), 1)[0] == ordinal(period_of("2026-02").first) + 27  # day capped at 28
