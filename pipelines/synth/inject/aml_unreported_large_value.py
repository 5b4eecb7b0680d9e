"""aml.unreported_large_value: a new customer tops up 1.05-1.6 x the natural-person domestic threshold from
their own card early in the period (a large-value transaction, PBOC Order [2016] No. 3) and the LVTR the
enterprise would have filed for it is left out of aml_reports. The money goes back to their card on the
last day (that one is reported as usual). The top-up's reporting deadline (report_working_days working
days of the business calendar) falls inside the period, so AML-001 can judge it even in the last one."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from pipelines.business_calendar import working_day_after
from pipelines.quality.thresholds import threshold
from pipelines.synth import aml_patterns as p
from pipelines.synth.business.common import T_NATURAL
from pipelines.synth.inject.base import Context, Injector, register
from pipelines.synth.ledger import Ledger
from pipelines.synth.tables import ids


@register
class UnreportedLargeValue(Injector):
    name = "aml.unreported_large_value"
    expected = ("AML-001", "X-10")

    def adjust_legs(self, ctx: Context, lg: Ledger) -> None:
        rng, period, st = ctx.rng, ctx.period, ctx.state
        day = int(rng.integers(1, period.ndays - 10))
        n = int(threshold("AML-001", "report_working_days", ctx.plan.ent_type, on=period.last))
        while day > 1 and working_day_after(period.first + timedelta(days=day), n) > period.last:
            day -= 1  # e.g. a Spring Festival late in the month
        party, acct = p.customers(st, rng, 1, period.first_ord + day)
        amt = int(T_NATURAL * rng.uniform(1.05, 1.6))
        p.receive(lg, st, t=p.at(day, rng), sender=party, acct=acct, owner=party, amt=amt, self_funded=True)
        p.settle(lg, st, period, acct=acct, owner=party, amt=amt)
        ctx.case.parties = ids("party", party).to_list()
        ctx.aml_party = party

    def adjust_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> None:
        txns = p.case_txns(tables, ctx.aml_party, purpose="top_up")
        ctx.case.records = {"transactions": txns}
        tables["aml_reports"] = tables["aml_reports"].filter(~pl.col("txn_id").is_in(txns))
