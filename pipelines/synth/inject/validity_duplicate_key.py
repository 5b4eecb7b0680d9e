"""validity.duplicate_key: v1's parties file lists one party twice (an identical row); v2 is correct."""

from __future__ import annotations

import polars as pl

from pipelines.synth.inject.base import Context, Injector, register


@register
class DuplicateKey(Injector):
    name = "validity.duplicate_key"
    expected = ("V*",)
    resubmits = True

    def break_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        parties = tables["parties"]
        i = int(ctx.rng.integers(0, parties.height))
        ctx.case.records = {"parties": [parties["party_id"][i]]}
        return {**tables, "parties": pl.concat([parties, parties.slice(i, 1)])}
