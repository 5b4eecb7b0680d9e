"""supervisory.late_incident_report: a major security incident (no outage: the ledger is untouched) is
reported to the regulator three to four days after it was detected, inside the period (OPS-002)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import polars as pl

from pipelines.synth.inject.base import Context, Injector, register


@register
class LateIncidentReport(Injector):
    name = "supervisory.late_incident_report"
    expected = ("OPS-002",)

    def adjust_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> None:
        inc = tables["incidents"]
        period = ctx.period
        day = period.first + timedelta(days=int(ctx.rng.integers(0, period.ndays - 5)))
        started = datetime.combine(day, time(9)) + timedelta(seconds=int(ctx.rng.integers(0, 8 * 3600)))
        detected = started + timedelta(minutes=int(ctx.rng.integers(5, 60)))
        reported = detected + timedelta(hours=int(ctx.rng.integers(72, 96)))
        incident_id = f"{ctx.plan.enterprise_id}-I{period.yymm}-9{len(inc) + 1:02d}"
        row = {
            "enterprise_id": ctx.plan.enterprise_id,
            "incident_id": incident_id,
            "incident_type": "security",
            "planned": False,
            "started_at": started,
            "ended_at": started + timedelta(minutes=int(ctx.rng.integers(20, 90))),
            "detected_at": detected,
            "reported_at": reported,
            "system": "account service",
            "severity": "major",
            "customers_affected": 0,
            "records_leaked": 0,
            "txns_failed": 0,
        }
        new = pl.DataFrame([row], schema=inc.schema)
        tables["incidents"] = pl.concat([inc, new]).sort("started_at", "incident_id")
        ctx.case.records = {"incidents": [incident_id]}
