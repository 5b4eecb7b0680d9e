"""supervisory.overdue_spike: the overdue share of a P2P platform's outstanding principal is tripled (to
at least 30%) in one month: current loans are filed as 1-60 days past due with part of their principal
overdue. Outstanding principal, schedules, legs and positions are untouched (the loan roll-forward and the
position identity still hold); the next month's filing shows the loans as they were."""

from __future__ import annotations

import polars as pl

from pipelines.synth.inject.base import Context, Injector, register
from pipelines.synth.population import EnterprisePlan

MULTIPLE = 3.0
MIN_SHARE = 0.30
MIN_LEGS_PER_MONTH = 300  # books of 20+ loans (CRD-001 screens no smaller book)
QOQ_LAG = 3  # CRD-001's quarter-on-quarter screen compares with the value three periods earlier (qoq_lag)


@register
class OverdueSpike(Injector):
    name = "supervisory.overdue_spike"
    expected = ("CRD-001",)
    ent_types = ("P2P",)
    min_peers = 5

    def eligible(self, plan: EnterprisePlan, period_index: int) -> bool:
        # Detectable as specified: by the quarter-on-quarter screen where the period three months back
        # was filed, else by the peer screen where the market has peers to spare (small books and
        # missing filings drop out of the peer set, so a bare min_peers market may leave too few).
        has_qoq = period_index >= QOQ_LAG
        return plan.legs_per_month >= MIN_LEGS_PER_MONTH and (has_qoq or plan.peers >= 2 * self.min_peers)

    def adjust_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> None:
        loans = tables["loans"]
        live = loans.filter(pl.col("outstanding_principal") > 0)
        total = int(live["outstanding_principal"].sum())
        overdue = int(live.filter(pl.col("days_past_due") > 0)["outstanding_principal"].sum())
        target = max(MULTIPLE * overdue, MIN_SHARE * total)
        current = live.filter((pl.col("days_past_due") == 0) & (pl.col("status") == "current")).sort(
            "loan_id"
        )
        if current.is_empty() or total == 0:
            raise RuntimeError(f"{ctx.case.case_id}: no current loan to fall overdue")
        shuffled = current.sample(fraction=1.0, shuffle=True, seed=int(ctx.rng.integers(2**31)))
        running = overdue + shuffled["outstanding_principal"].cum_sum()
        picked = shuffled.filter(running.shift(1, fill_value=overdue) < target)["loan_id"].sort()
        dpd = pl.Series(ctx.rng.integers(1, 61, len(picked)), dtype=loans.schema["days_past_due"])
        spike = pl.DataFrame({"loan_id": picked, "spike_dpd": dpd})
        tables["loans"] = (
            loans.join(spike, on="loan_id", how="left", maintain_order="left")
            .with_columns(
                days_past_due=pl.coalesce("spike_dpd", "days_past_due"),
                overdue_principal=pl.when(pl.col("spike_dpd").is_not_null())
                .then(pl.max_horizontal(pl.col("outstanding_principal") // 4, pl.lit(1)))
                .otherwise(pl.col("overdue_principal")),
                status=pl.when(pl.col("spike_dpd").is_not_null())
                .then(pl.lit("overdue"))
                .otherwise(pl.col("status")),
            )
            .drop("spike_dpd")
        )
        ctx.case.records = {"loans": picked.to_list()}
