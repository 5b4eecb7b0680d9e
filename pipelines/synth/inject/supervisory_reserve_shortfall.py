"""supervisory.reserve_shortfall: a PAY institution moves part of its central reserve to an outside
counterparty (bank legs only) and brings it back a few days later, so its reserves cover 85-97% of the
wallet total on those days, at least one of them a working day (RES-002 is judged on working days).
Every ledger identity still holds; the counterparty is not related and the
money never touches OWN_FUNDS (that would be reserve leakage)."""

from __future__ import annotations

from pipelines.business_calendar import is_working_ordinal
from pipelines.synth.balances import derive
from pipelines.synth.inject.base import Context, Injector, register
from pipelines.synth.ledger import PUR, Ledger, bank_external
from pipelines.synth.tables import ids
from pipelines.synth.transactions import finalize


@register
class ReserveShortfall(Injector):
    name = "supervisory.reserve_shortfall"
    # RES-002 (centralised deposit ratio, working days) breaks with it: the short days include a working day
    expected = ("RES-001", "RES-002")
    ent_types = ("PAY",)

    def adjust_legs(self, ctx: Context, lg: Ledger) -> None:
        st = ctx.state
        period = ctx.period
        legs = finalize(lg, enterprise_id=ctx.plan.enterprise_id, period=period)
        wallets = derive(legs, st.accounts, ctx.opening, period, ctx.plan.enterprise_id).customer_total
        nd = period.ndays
        d1 = int(ctx.rng.integers(2, nd - 9))
        d2 = d1 + int(ctx.rng.integers(2, 6))
        while not any(is_working_ordinal(period.first_ord + d) for d in range(d1, d2)):
            d2 += 1  # short over a weekend or holiday only: stay short into the next working day
        share = float(ctx.rng.uniform(0.04, 0.13))
        amount = int(wallets[d1:d2].min() * share)
        if amount <= 0:
            raise RuntimeError(f"{ctx.case.case_id}: no wallet balance to fall short of")
        cpty = st.add_legals(ctx.rng, 1, period.first_ord, (("K", 1.0),))
        rc = st.own["RC1"]
        bank_external(
            lg,
            st.parties,
            t=d1 * 86400 + 10 * 3600 + int(ctx.rng.integers(0, 3600)),
            acct=rc,
            counterparty=cpty,
            amt=amount,
            pur=PUR["payment"],
            outgoing=True,
        )
        bank_external(
            lg,
            st.parties,
            t=d2 * 86400 + 10 * 3600 + int(ctx.rng.integers(0, 3600)),
            acct=rc,
            counterparty=cpty,
            amt=amount,
            pur=PUR["payment"],
            outgoing=False,
        )
        ctx.case.parties = ids("party", cpty).to_list()
