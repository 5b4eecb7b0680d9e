"""validity.bad_uscc: v1's enterprise_profile carries its USCC with a wrong check character; v2 is correct."""

from __future__ import annotations

import polars as pl

from pipelines.filing_package.uscc import CHARSET
from pipelines.synth.inject.base import Context, Injector, register


@register
class BadUscc(Injector):
    name = "validity.bad_uscc"
    expected = ("V*",)
    resubmits = True

    def break_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        profile = tables["enterprise_profile"]
        uscc = profile["uscc"][0]
        wrong = [c for c in CHARSET if c != uscc[17]]
        bad = uscc[:17] + wrong[int(ctx.rng.integers(0, len(wrong)))]
        return {**tables, "enterprise_profile": profile.with_columns(uscc=pl.lit(bad))}
