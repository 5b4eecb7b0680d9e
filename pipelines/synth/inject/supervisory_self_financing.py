"""supervisory.self_financing: a P2P or CF-debt platform's borrower is one of its related parties (a
shareholder's company, a director) in the period: the borrower of an outstanding loan is filed with
is_related_party true. Nothing else changes (the flag is as of period end; loan disbursements and
repayments to a related party are ordinary purposes for SEG-002), so SEG-003 fires."""

from __future__ import annotations

import polars as pl

from pipelines.synth.inject.base import Context, Injector, register


@register
class SelfFinancing(Injector):
    name = "supervisory.self_financing"
    expected = ("SEG-003",)
    ent_types = ("P2P",)

    def adjust_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> None:
        loans = tables["loans"].filter(pl.col("outstanding_principal") > 0)
        if loans.height == 0:
            raise RuntimeError(f"{ctx.case.case_id}: no outstanding loan")
        borrowers = loans["borrower_party_id"].unique().sort()
        borrower = borrowers[int(ctx.rng.integers(0, len(borrowers)))]
        parties = tables["parties"]
        tables["parties"] = parties.with_columns(
            is_related_party=pl.when(pl.col("party_id") == borrower)
            .then(True)
            .otherwise(pl.col("is_related_party"))
        )
        ctx.case.parties = [borrower]
