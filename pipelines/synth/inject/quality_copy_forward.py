"""quality.copy_forward: a PAY institution's v1 re-files last period's customer balances unchanged (FQ-007
copy_forward_share) - each wallet's row keeps this period's date but carries last period's opening,
credits, debits and closing, so its opening is not the closing filed before (X-01, rule M001). What the
filer derives from those rows follows them: the liquidity filing's stable and less-stable customer balances
(X-12) add up to the copied openings plus the period's legs. v2 files the true rows, so the next period's
openings continue from a correct current version. PAY only: at P2P/CF/WM the bank's custody summary
would contradict the copied sub-accounts (X-04)."""

from __future__ import annotations

import polars as pl

from pipelines.quality.thresholds import threshold
from pipelines.synth.inject.base import Context, Injector, register

MONEY = ("opening", "credits", "debits", "closing")


@register
class CopyForward(Injector):
    name = "quality.copy_forward"
    expected = ("X-01", "FQ-007")
    ent_types = ("PAY",)
    needs_history = True
    resubmits = True
    min_peers = int(threshold("*", "min_peers"))

    def break_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        wallets = tables["accounts"].filter(pl.col("account_class").str.starts_with("CUSTOMER"))["account_id"]
        bal = tables["account_balances"]
        if ctx.state.filed_balances is None:  # needs_history: a period was filed before
            raise RuntimeError(f"{ctx.case.case_id}: no filed balances to copy forward")
        before = ctx.state.filed_balances.filter(pl.col("account_id").is_in(wallets)).select(
            "account_id", *(pl.col(c).alias(f"prev_{c}") for c in MONEY)
        )
        joined = bal.join(before, on="account_id", how="left")
        copied = pl.col("prev_opening").is_not_null()
        changed = joined.filter(copied & pl.any_horizontal(pl.col(c) != pl.col(f"prev_{c}") for c in MONEY))
        if changed.is_empty():
            raise RuntimeError(f"{ctx.case.case_id}: no customer balance to copy forward")
        shift = int((joined.filter(copied)["prev_opening"] - joined.filter(copied)["opening"]).sum())
        refiled = joined.with_columns(
            pl.when(copied).then(pl.col(f"prev_{c}")).otherwise(pl.col(c)).alias(c) for c in MONEY
        ).select(bal.columns)
        ctx.case.records = {
            "account_balances": [
                f"{a}|{d.isoformat()}" for a, d in changed.select("account_id", "biz_date").iter_rows()
            ]
        }
        out = {**tables, "account_balances": refiled}
        if "liquidity" in tables:  # the derived customer total moves by the copied openings' difference
            liq = tables["liquidity"]
            total = pl.col("customer_bal_stable") + pl.col("customer_bal_less_stable")
            stable = (
                pl.when(total > 0)
                .then((pl.col("customer_bal_stable") * (total + shift) / total).floor())
                .otherwise(0)
                .cast(pl.Int64)
            )
            out["liquidity"] = liq.with_columns(
                customer_bal_stable=stable, customer_bal_less_stable=total + shift - stable
            )
        return out
