"""macro.resubmission_drift: a PAY institution's v1 carries reserve transfers that v2 drops - on a few days
money moves from the central reserve (RESERVE_CENTRAL) to the bank reserve (RESERVE_BANK) and back the next
day, about 5% of the month's transaction volume. v1 is coherent (balances, bank confirmations and control
totals follow the extra legs) and accepted; v2 moves transactions.amount_cny by ~5% against it (X-16, rule
M008; FQ-002). The case is v2's."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from pipelines.synth.inject.base import Context, Injector, register

SHARE = 0.025  # each leg of a round trip: 2 x 2.5% of the volume


@register
class ResubmissionDrift(Injector):
    name = "macro.resubmission_drift"
    expected = ("FQ-002", "X-16")
    ent_types = ("PAY",)
    resubmits = True

    def break_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        accounts = tables["accounts"]
        rc = accounts.filter(pl.col("account_class") == "RESERVE_CENTRAL")["account_id"][0]
        rb = accounts.filter(pl.col("account_class") == "RESERVE_BANK")["account_id"][0]
        txns = tables["transactions"]
        bal = tables["account_balances"]
        target = int(int(txns["amount_cny"].sum()) * SHARE)  # an integer column: its sum is an int
        rc_close = dict(bal.filter(pl.col("account_id") == rc).select("biz_date", "closing").iter_rows())
        days = sorted(rc_close)[:-1]
        order = ctx.rng.permutation(len(days))
        moves: list[tuple] = []  # (day, amount)
        left = target
        for i in order:
            day = days[int(i)]
            if left <= 0:
                break
            if any(abs((day - d).days) < 2 for d, _ in moves):
                continue
            amount = min(left, int(rc_close[day] * 0.9))
            if amount > 0:
                moves.append((day, amount))
                left -= amount
        template = txns.filter(pl.col("leg") == "bank").head(1)
        rows = []
        for n, (day, amount) in enumerate(moves):
            for k, (dr, cr, d) in enumerate(((rc, rb, day), (rb, rc, day + timedelta(days=1)))):
                tag = f"{ctx.period.label.replace('-', '')[2:]}-9{n:04d}{k}"
                rows.append(
                    template.with_columns(
                        txn_id=pl.lit(f"{ctx.plan.enterprise_id}-T{tag}"),
                        event_id=pl.lit(f"{ctx.plan.enterprise_id}-E{tag}"),
                        booked_at=pl.lit(d).cast(pl.Datetime("us")) + pl.duration(hours=10),
                        value_date=pl.lit(d),
                        debit_account_id=pl.lit(dr),
                        credit_account_id=pl.lit(cr),
                        payer_party_id=pl.lit(None, dtype=template.schema["payer_party_id"]),
                        payee_party_id=pl.lit(None, dtype=template.schema["payee_party_id"]),
                        amount=pl.lit(amount, dtype=template.schema["amount"]),
                        currency=pl.lit("CNY"),
                        amount_cny=pl.lit(amount, dtype=template.schema["amount_cny"]),
                        channel=pl.lit("transfer"),
                        purpose=pl.lit("internal"),
                        is_cross_border=pl.lit(False),
                        cp_country=pl.lit(None, dtype=template.schema["cp_country"]),
                        cp_region=pl.lit(None, dtype=template.schema["cp_region"]),
                        cp_sector=pl.lit(None, dtype=template.schema["cp_sector"]),
                        status=pl.lit("ok"),
                        reverses_txn_id=pl.lit(None, dtype=template.schema["reverses_txn_id"]),
                    ).select(txns.columns)
                )
        extra = pl.concat(rows).cast(txns.schema)
        for day, amount in moves:
            nxt = day + timedelta(days=1)
            for acct, sign in ((rc, -1), (rb, 1)):
                mine = pl.col("account_id") == acct
                on, after = mine & (pl.col("biz_date") == day), mine & (pl.col("biz_date") == nxt)
                out_col, in_col = ("debits", "credits") if sign < 0 else ("credits", "debits")
                bal = bal.with_columns(
                    pl.when(on).then(pl.col(out_col) + amount).otherwise(pl.col(out_col)).alias(out_col),
                    pl.when(after).then(pl.col(in_col) + amount).otherwise(pl.col(in_col)).alias(in_col),
                    opening=pl.when(after)
                    .then(pl.col("opening") + sign * amount)
                    .otherwise(pl.col("opening")),
                    closing=pl.when(on).then(pl.col("closing") + sign * amount).otherwise(pl.col("closing")),
                    bank_confirmed_closing=pl.when(on)
                    .then(pl.col("bank_confirmed_closing") + sign * amount)
                    .otherwise(pl.col("bank_confirmed_closing")),
                )
        ctx.case.submission_id = f"{ctx.plan.enterprise_id}-{ctx.period.label}-v2"
        return {**tables, "transactions": pl.concat([txns, extra]), "account_balances": bal}
