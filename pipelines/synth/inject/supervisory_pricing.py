"""supervisory.pricing: one to three outstanding loans of a P2P platform carry an all-in cost
(apr_comprehensive) of 48% a year, above the 36% cap. Only the loans filing changes: amounts, schedules
and legs are untouched, so every ledger identity still holds."""

from __future__ import annotations

import polars as pl

from pipelines.synth.inject.base import Context, Injector, register

APR_COMPREHENSIVE = 480_000  # millionths: 48% a year


@register
class Pricing(Injector):
    name = "supervisory.pricing"
    expected = ("CRD-006",)
    ent_types = ("P2P",)

    def adjust_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> None:
        loans = tables["loans"]
        live = loans.filter(pl.col("outstanding_principal") > 0)["loan_id"].sort()
        if live.is_empty():
            raise RuntimeError(f"{ctx.case.case_id}: no outstanding loan to misprice")
        k = min(len(live), int(ctx.rng.integers(1, 4)))
        picked = live.gather(ctx.rng.choice(len(live), k, replace=False)).sort()
        tables["loans"] = loans.with_columns(
            apr_comprehensive=pl.when(pl.col("loan_id").is_in(picked.implode()))
            .then(pl.lit(APR_COMPREHENSIVE, pl.Int64))
            .otherwise(pl.col("apr_comprehensive"))
        )
        ctx.case.records = {"loans": picked.to_list()}
