"""Building contract-shaped tables: typed frames (money in integer cents, rates in millionths, naive Shanghai
datetimes). Their rendering to the CSV text of spec/filings.md is pipelines.filing_package.formats."""

from __future__ import annotations

import numpy as np
import polars as pl

# id formats: party P0000001, loan LN00000001, investment IV00000001, campaign CP000001
PREFIX = {"party": ("P", 7), "loan": ("LN", 8), "inv": ("IV", 8), "camp": ("CP", 6)}


def ids(kind: str, idx) -> pl.Series:
    """String ids for 0-based indices; -1 gives null."""
    prefix, width = PREFIX[kind]
    s = pl.Series(np.asarray(idx, dtype=np.int64))
    return pl.select(
        pl.when(s >= 0).then(pl.lit(prefix) + (s + 1).cast(pl.String).str.zfill(width))
    ).to_series()


def gather(names, idx) -> pl.Series:
    """names[idx] with -1 giving null."""
    s = pl.Series(np.asarray(idx, dtype=np.int64))
    return pl.Series(list(names), dtype=pl.String).gather(pl.select(pl.when(s >= 0).then(s)).to_series())


def nullable(values, dtype=pl.Int64) -> pl.Series:
    """An integer column with -1 as null."""
    s = pl.Series(np.asarray(values, dtype=np.int64))
    return pl.select(pl.when(s >= 0).then(s)).to_series().cast(dtype)


def dates(ordinals) -> pl.Series:
    return pl.Series(np.asarray(ordinals, dtype=np.int64)).cast(pl.Int32).cast(pl.Date)


def nullable_dates(ordinals) -> pl.Series:
    return nullable(ordinals).cast(pl.Int32).cast(pl.Date)
