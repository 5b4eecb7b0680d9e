"""Contract-shaped frames rendered to the CSV text of spec/filings.md "Value formats" (money in integer
cents -> two decimals, rates in millionths -> six decimals, naive Shanghai datetimes -> +08:00), and the
manifest's control totals."""

from __future__ import annotations

import polars as pl

from pipelines.contracts import load_contracts

# contract column type -> the polars type a column is cast to before rendering (others: String)
DTYPES: dict[str, pl.DataType] = {
    "money": pl.Int64(),
    "rate": pl.Int64(),
    "integer": pl.Int64(),
    "boolean": pl.Boolean(),
    "date": pl.Date(),
    "timestamp": pl.Datetime("us"),
}


def money_expr(col: str) -> pl.Expr:
    """Integer cents -> decimal string with exactly two decimals."""
    c = pl.col(col)
    a = c.abs()
    return (
        pl.when(c < 0).then(pl.lit("-")).otherwise(pl.lit(""))
        + (a // 100).cast(pl.String)
        + pl.lit(".")
        + (a % 100).cast(pl.String).str.zfill(2)
    ).alias(col)


def money_str(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def rate_expr(col: str) -> pl.Expr:
    """Integer millionths -> decimal fraction with six decimals."""
    c = pl.col(col)
    return (
        (c // 1_000_000).cast(pl.String) + pl.lit(".") + (c % 1_000_000).cast(pl.String).str.zfill(6)
    ).alias(col)


def conform(filing_type: str, df: pl.DataFrame) -> pl.DataFrame:
    """The contract's columns in contract order (absent ones null), typed for rendering."""
    out = []
    if df.width == 0:
        df = pl.DataFrame({"_": pl.Series([], dtype=pl.Int64)})
    for col in load_contracts()[filing_type].columns:
        dtype = DTYPES.get(col.type, pl.String())
        if col.name in df.columns:
            out.append(pl.col(col.name).cast(dtype))
        else:
            out.append(pl.lit(None, dtype=dtype).alias(col.name))
    return df.select(out)


def render(filing_type: str, df: pl.DataFrame) -> pl.DataFrame:
    """String columns ready for CSV: money, rates and timestamps formatted; null stays null (empty field)."""
    exprs = []
    for col in load_contracts()[filing_type].columns:
        if col.type == "money":
            exprs.append(money_expr(col.name))
        elif col.type == "rate":
            exprs.append(rate_expr(col.name))
        elif col.type == "timestamp":
            exprs.append(pl.col(col.name).dt.strftime("%Y-%m-%dT%H:%M:%S+08:00"))
        else:
            exprs.append(pl.col(col.name))
    return conform(filing_type, df).select(exprs)


def csv_bytes(filing_type: str, df: pl.DataFrame) -> bytes:
    return render(filing_type, df).write_csv(None, null_value="", line_terminator="\n").encode("utf-8")


def control_totals(filing_type: str, df: pl.DataFrame) -> dict[str, str]:
    """Manifest control totals: the sum of each named money column (integer cents, so exact)."""
    out = {}
    for name in load_contracts()[filing_type].control_totals:
        total = int(df[name].sum()) if df.height else 0
        out[name] = money_str(total)
    return out
