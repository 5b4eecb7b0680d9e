"""supervisory.fund_pool: a P2P platform moves part of a lender's idle money from the lender's
CUSTOMER_SUB account to its OWN_FUNDS without a fee purpose (customer leg sub -> OWN_FUNDS, purpose
internal; bank leg CUSTODY_SUMMARY -> OWN_FUNDS), as a pool would, and puts it back a few days later
(purpose internal, not a compensation). The lender's balance stays non-negative, custody still equals the
sub-accounts and the period closes with the balances the business left, so only SEG-002 fires."""

from __future__ import annotations

import numpy as np

from pipelines.synth.business.p2p import P2PBiz
from pipelines.synth.inject.base import Context, Injector, register
from pipelines.synth.ledger import CH, PUR, Ledger
from pipelines.synth.tables import ids


def lowest_balance_after(
    cols: dict[str, np.ndarray], accounts: np.ndarray, opening: np.ndarray, t0: int
) -> np.ndarray:
    """Per account (sorted unique indices): the lowest running balance from time t0 to period end,
    from its opening and its ok customer legs."""
    ok = cols["cust"] & ~cols["failed"]
    side_acct = np.r_[cols["cr"][ok], cols["dr"][ok]]
    side_amt = np.r_[cols["amt"][ok], -cols["amt"][ok]]
    side_t = np.r_[cols["t"][ok], cols["t"][ok]]
    keep = np.isin(side_acct, accounts)
    a, amt, t = side_acct[keep], side_amt[keep], side_t[keep]
    order = np.lexsort((t, a))
    a, amt, t = a[order], amt[order], t[order]
    pos = np.searchsorted(accounts, a)
    start = np.searchsorted(a, accounts)  # first move of each account in the sorted arrays
    cum = np.cumsum(amt)
    before = np.r_[0, cum][start]  # cumulative sum of all earlier accounts' moves
    running = opening[a] + cum - before[pos]
    # the balance at t0: opening plus the moves before it
    lowest = opening[accounts] + np.bincount(
        pos, weights=np.where(t < t0, amt, 0), minlength=len(accounts)
    ).astype(np.int64)
    later = t >= t0
    np.minimum.at(lowest, pos[later], running[later])
    return lowest


@register
class FundPool(Injector):
    name = "supervisory.fund_pool"
    expected = ("SEG-002",)
    ent_types = ("P2P",)

    def adjust_legs(self, ctx: Context, lg: Ledger) -> None:
        st = ctx.state
        cols = lg.columns()
        lenders = np.unique(st.business(P2PBiz).lenders.acct)
        opening = np.concatenate([ctx.opening, np.zeros(len(st.accounts) - len(ctx.opening), np.int64)])
        t0 = int(ctx.rng.integers(3, ctx.period.ndays - 8)) * 86400 + 11 * 3600
        t1 = t0 + int(ctx.rng.integers(2, 6)) * 86400 + 3 * 3600
        lowest = lowest_balance_after(cols, lenders, opening, t0)
        k = int(np.argmax(lowest))
        amount = int(lowest[k] * ctx.rng.uniform(0.3, 0.6))
        if amount <= 0:
            raise RuntimeError(f"{ctx.case.case_id}: no lender money to pool")
        acct = int(lenders[k])
        ev = lg.new_events(1)
        payer = int(st.accounts.owner[acct])
        of, cs = st.own["OF1"], st.own["CS1"]
        lg.add(
            ev=ev,
            cust=True,
            t=t0,
            dr=acct,
            cr=of,
            payer=payer,
            amt=amount,
            ch=CH["online_balance"],
            pur=PUR["internal"],
        )
        lg.add(ev=ev, cust=False, t=t0, dr=cs, cr=of, amt=amount, ch=CH["transfer"], pur=PUR["internal"])
        back = lg.new_events(1)
        lg.add(
            ev=back,
            cust=True,
            t=t1,
            dr=of,
            cr=acct,
            payee=payer,
            amt=amount,
            ch=CH["transfer"],
            pur=PUR["internal"],
        )
        lg.add(ev=back, cust=False, t=t1, dr=of, cr=cs, amt=amount, ch=CH["transfer"], pur=PUR["internal"])
        ctx.case.parties = ids("party", [payer]).to_list()
