"""validity.dangling_reference: in v1 one transaction names an account that is not in `accounts`.

The leg chosen is a failed one when there is any (failed legs move no money, so no balance rule sees the
change and only X-08 fires); otherwise a leg's payer party is replaced by one not in `parties`. v2 is correct.
"""

from __future__ import annotations

import polars as pl

from pipelines.synth.inject.base import Context, Injector, register


@register
class DanglingReference(Injector):
    name = "validity.dangling_reference"
    expected = ("X-08",)
    resubmits = True

    def break_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        tx = tables["transactions"]
        ghost = f"GHOST-{int(ctx.rng.integers(10**6, 10**7))}"
        failed = tx.filter((pl.col("status") == "failed") & pl.col("credit_account_id").is_not_null())
        if failed.height:
            col, pool = "credit_account_id", failed
        else:
            col, pool = "payer_party_id", tx.filter(pl.col("payer_party_id").is_not_null())
        txn = pool["txn_id"][int(ctx.rng.integers(0, pool.height))]
        ctx.case.records = {"transactions": [txn]}
        fixed = tx.with_columns(
            pl.when(pl.col("txn_id") == txn).then(pl.lit(ghost)).otherwise(pl.col(col)).alias(col)
        )
        return {**tables, "transactions": fixed}
