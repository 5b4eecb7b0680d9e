"""supervisory.untimely_complaints: one to three complaints received 61-100 days before the period end
are still open (in_progress) at its end (CPL-002: open longer than 60 days). They are filed in this
period only; complaint counts of the period (received in it) do not change."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import polars as pl

from pipelines.synth.complaints import TOPICS
from pipelines.synth.inject.base import Context, Injector, register

SEQ_BASE = 9_000_000  # complaint numbers far beyond the simulated ones


@register
class UntimelyComplaints(Injector):
    name = "supervisory.untimely_complaints"
    expected = ("CPL-002",)

    def adjust_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> None:
        comp = tables["complaints"]
        period = ctx.period
        eid = ctx.plan.enterprise_id
        topics = TOPICS[ctx.plan.ent_type]
        rows = []
        for k in range(int(ctx.rng.integers(1, 4))):
            age = int(ctx.rng.integers(61, 101))
            received = datetime.combine(period.last - timedelta(days=age), time(10)) + timedelta(
                seconds=int(ctx.rng.integers(0, 8 * 3600))
            )
            product, issue = topics[int(ctx.rng.integers(len(topics)))]
            rows.append(
                {
                    "enterprise_id": eid,
                    "complaint_id": f"{eid}-C{SEQ_BASE + period.index * 10 + k + 1:07d}",
                    "received_at": received,
                    "channel": "own",
                    "party_id": None,
                    "product": product,
                    "issue": issue,
                    "amount_disputed": None,
                    "closed_at": None,
                    "extension_count": 2,
                    "resolution": "in_progress",
                    "consumer_disputed": False,
                    "escalated": False,
                }
            )
        new = pl.DataFrame(rows, schema=comp.schema)
        tables["complaints"] = pl.concat([comp, new])
        ctx.case.records = {"complaints": new["complaint_id"].to_list()}
