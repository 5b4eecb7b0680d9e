"""validity.enum: in v1 one customer leg carries an unknown `purpose` code (a payment, top-up or withdrawal
relabelled, so no purpose-dependent field changes meaning); v2 is correct."""

from __future__ import annotations

import polars as pl

from pipelines.synth.inject.base import Context, Injector, register

UNKNOWN = ("gift", "Payment", "transfer_out", "cashback")
PLAIN = ("payment", "top_up", "withdrawal")


@register
class UnknownEnum(Injector):
    name = "validity.enum"
    expected = ("V*",)
    resubmits = True

    def break_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        tx = tables["transactions"]
        ids = tx.filter(pl.col("purpose").is_in(PLAIN))["txn_id"]
        if ids.len() == 0:
            ids = tx["txn_id"]
        txn = ids[int(ctx.rng.integers(0, ids.len()))]
        code = UNKNOWN[int(ctx.rng.integers(0, len(UNKNOWN)))]
        ctx.case.records = {"transactions": [txn]}
        fixed = tx.with_columns(
            purpose=pl.when(pl.col("txn_id") == txn).then(pl.lit(code)).otherwise(pl.col("purpose"))
        )
        return {**tables, "transactions": fixed}
