"""supervisory.maturity_mismatch: term splitting. Lenders' positions in long loans of a P2P platform are
filed as 30-day investments. Only positions that started at least 31 days before the period end are
chosen, so their 30-day terms ended inside the period and the cash-flow gap of the next 30 days
(LIQ-003) is unchanged; loans, legs and balances are untouched."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from pipelines.synth.inject.base import Context, Injector, register

SPLIT_TERM_DAYS = 30
MIN_LOAN_DAYS = 180  # the loans so funded run at least six months (12-month loans where there are)


@register
class MaturityMismatch(Injector):
    name = "supervisory.maturity_mismatch"
    expected = ("CRD-007",)
    ent_types = ("P2P",)

    def adjust_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> None:
        inv = tables["investments"]
        loans = tables["loans"].select("loan_id", "maturity_date", "outstanding_principal")
        last_start = ctx.period.last - timedelta(days=SPLIT_TERM_DAYS + 1)
        cand = (
            inv.join(loans, on="loan_id")
            .filter(
                (pl.col("outstanding_principal") > 0)
                & (pl.col("start_date") <= last_start)
                & ((pl.col("maturity_date") - pl.col("start_date")).dt.total_days() >= MIN_LOAN_DAYS)
            )
            .sort("loan_id", "investment_id")
        )
        loan_ids = cand["loan_id"].unique(maintain_order=True)
        if loan_ids.is_empty():
            raise RuntimeError(f"{ctx.case.case_id}: no long loan with an old enough position")
        k = min(len(loan_ids), int(ctx.rng.integers(1, 3)))
        chosen = loan_ids.gather(ctx.rng.choice(len(loan_ids), k, replace=False))
        split = cand.filter(pl.col("loan_id").is_in(chosen.implode()))["investment_id"].sort()
        tables["investments"] = inv.with_columns(
            term_days=pl.when(pl.col("investment_id").is_in(split.implode()))
            .then(pl.lit(SPLIT_TERM_DAYS, inv.schema["term_days"]))
            .otherwise(pl.col("term_days"))
        )
        ctx.case.records = {"investments": split.to_list(), "loans": chosen.sort().to_list()}
