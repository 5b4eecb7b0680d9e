"""validity.dangling_reference: in v1 one transaction names an account that is not in `accounts`.

The leg chosen is a failed one when there is any (failed legs move no money, so no balance rule sees the
change and only X-08 fires); otherwise a leg's payer (or payee) party is replaced by one not in `parties`. v2 is correct.
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
        failed = tx.filter(pl.col("status") == "failed")
        # a failed leg's account (moves no money), else a party reference (no balance rule reads parties)
        choices = [
            ("credit_account_id", failed),
            ("debit_account_id", failed),
            ("payer_party_id", tx),
            ("payee_party_id", tx),
        ]
        picked = next(
            ((c, rows.filter(pl.col(c).is_not_null())) for c, rows in choices if rows[c].is_not_null().any()),
            None,
        )
        if picked is None:
            raise AssertionError(f"{ctx.case.submission_id}: no transaction reference to break")
        col, pool = picked
        txn = pool["txn_id"][int(ctx.rng.integers(0, pool.height))]
        ctx.case.records = {"transactions": [txn]}
        fixed = tx.with_columns(
            pl.when(pl.col("txn_id") == txn).then(pl.lit(ghost)).otherwise(pl.col(col)).alias(col)
        )
        return {**tables, "transactions": fixed}
