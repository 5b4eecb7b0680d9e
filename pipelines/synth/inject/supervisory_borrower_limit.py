"""supervisory.borrower_limit: one natural person owes more than the CNY 200,000 a borrower may owe on one
P2P platform (CRD-005). Outstanding loans of other borrowers are filed under one unrelated natural
borrower until they total at least CNY 260,000; amounts, legs and positions are untouched, so every
ledger identity still holds (the loans filing is the only change, in this period only). The top-10
borrowers' share (CRD-004) rises with it where the book has 100 borrowers or more."""

from __future__ import annotations

import polars as pl

from pipelines.synth.inject.base import Context, Injector, register
from pipelines.synth.population import EnterprisePlan

TARGET_CENTS = 26_000_000  # CNY 260,000
MIN_LEGS_PER_MONTH = 3_000  # platforms this busy carry books above the target (loans CNY 2,000-20,000); at
# medium a platform of 2,739 legs a month had too small a natural-person book in its third period


@register
class BorrowerLimit(Injector):
    name = "supervisory.borrower_limit"
    # the borrower's CNY 260,000 also concentrates the book (top-10 borrowers' share, CRD-004)
    expected = ("CRD-005", "CRD-004")
    ent_types = ("P2P",)

    def eligible(self, plan: EnterprisePlan, period_index: int) -> bool:
        return plan.legs_per_month >= MIN_LEGS_PER_MONTH

    def adjust_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> None:
        parties = tables["parties"].filter((pl.col("party_type") == "natural") & ~pl.col("is_related_party"))
        loans = tables["loans"]
        live = loans.filter(pl.col("outstanding_principal") > 0).join(
            parties.select(pl.col("party_id").alias("borrower_party_id")), on="borrower_party_id"
        )
        if live["outstanding_principal"].sum() < TARGET_CENTS:
            raise RuntimeError(f"{ctx.case.case_id}: loan book too small for a CNY 260,000 borrower")
        shuffled = live.sort("loan_id").sample(fraction=1.0, shuffle=True, seed=int(ctx.rng.integers(2**31)))
        owner = shuffled["borrower_party_id"][0]
        running = shuffled["outstanding_principal"].cum_sum()
        moved = shuffled.filter(running.shift(1, fill_value=0) < TARGET_CENTS)["loan_id"].sort()
        tables["loans"] = loans.with_columns(
            borrower_party_id=pl.when(pl.col("loan_id").is_in(moved.implode()))
            .then(pl.lit(owner))
            .otherwise(pl.col("borrower_party_id"))
        )
        ctx.case.records = {"loans": moved.to_list()}
        ctx.case.parties = [owner]
