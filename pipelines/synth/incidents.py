"""Incidents: a few per period, short, at night, reported within hours. Outages block booking (their legs
move after the end); unplanned ones leave failed attempts behind."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.synth.periods import Period

SYSTEMS = ("core payment", "mobile app", "clearing gateway", "account service", "risk engine", "web portal")


@dataclass
class Incident:
    kind: str  # outage, degradation, security, data_leak
    planned: bool
    start: int  # seconds after the period's first midnight
    end: int
    detected: int
    reported: int
    system: str
    customers: int
    failed: int  # failed attempts booked during it


def plan(rng: np.random.Generator, period: Period) -> list[Incident]:
    out = []
    for _ in range(int(rng.poisson(0.7))):
        d = int(rng.integers(0, period.ndays))
        u = rng.random()
        if u < 0.45:  # announced maintenance
            start = d * 86400 + int(rng.integers(1 * 3600, 3 * 3600))
            dur = int(rng.integers(30, 110)) * 60
            kind, planned, failed = "outage", True, 0
        elif u < 0.62:  # short unplanned outage at night
            start = d * 86400 + int(rng.integers(int(1.5 * 3600), 4 * 3600))
            dur = int(rng.integers(5, 20)) * 60
            kind, planned, failed = "outage", False, int(rng.integers(2, 7))
        elif u < 0.95:
            start = d * 86400 + int(rng.integers(8 * 3600, 21 * 3600))
            dur = int(rng.integers(10, 60)) * 60
            kind, planned, failed = "degradation", False, 0
        else:
            start = d * 86400 + int(rng.integers(8 * 3600, 20 * 3600))
            dur = int(rng.integers(5, 30)) * 60
            kind, planned, failed = "security", False, 0
        detected = start if planned else start + int(rng.integers(30, 600))
        out.append(
            Incident(
                kind,
                planned,
                start,
                start + dur,
                detected,
                detected + int(rng.integers(3600, 8 * 3600)),
                SYSTEMS[int(rng.integers(len(SYSTEMS)))],
                int(rng.integers(10, 500)) if kind != "security" else 0,
                failed,
            )
        )
    return sorted(out, key=lambda i: i.start)


def outages(incidents: list[Incident]) -> list[tuple[int, int]]:
    return [(i.start, i.end) for i in incidents if i.kind == "outage"]


def table(incidents: list[Incident], period: Period, enterprise_id: str) -> pl.DataFrame:
    base = period.first_ord * 86400

    def ts(field: str) -> pl.Series:
        return pl.Series([(base + getattr(i, field)) * 1_000_000 for i in incidents], dtype=pl.Int64).cast(
            pl.Datetime("us")
        )

    return pl.DataFrame(
        {
            "enterprise_id": pl.Series([enterprise_id] * len(incidents), dtype=pl.String),
            "incident_id": pl.Series(
                [f"{enterprise_id}-I{period.yymm}-{k + 1:03d}" for k in range(len(incidents))],
                dtype=pl.String,
            ),
            "incident_type": pl.Series([i.kind for i in incidents], dtype=pl.String),
            "planned": pl.Series([i.planned for i in incidents], dtype=pl.Boolean),
            "started_at": ts("start"),
            "ended_at": ts("end"),
            "detected_at": ts("detected"),
            "reported_at": ts("reported"),
            "system": pl.Series([i.system for i in incidents], dtype=pl.String),
            "severity": pl.Series(["minor"] * len(incidents), dtype=pl.String),
            "customers_affected": pl.Series([i.customers for i in incidents], dtype=pl.Int64),
            "records_leaked": pl.Series([0] * len(incidents), dtype=pl.Int64),
            "txns_failed": pl.Series([i.failed for i in incidents], dtype=pl.Int64),
        }
    )
