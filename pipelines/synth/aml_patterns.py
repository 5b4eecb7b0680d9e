"""Building blocks of the `aml.*` injections (irregularities.md): new customers and outside counterparties,
and the real transfers between them — customer legs with their bank legs — booked into the period's ledger
before balances are derived, so every ledger identity holds and only the typology is unusual.

Money enters and leaves through the bank-view account (the central reserve at PAY, so no sweep is needed;
the custody summary elsewhere). Transfers to a third party's bank account are `withdrawal` legs and
receipts from one are `payment` inflows: no wallet-funded `payment` by a natural person, so the PAY
account-class limits (RES-006) stay untouched."""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.synth.books import CLS
from pipelines.synth.ledger import CH, PUR, Ledger, cp_fields, inflow
from pipelines.synth.tables import ids

DAY = 86400
KYC_III = 2  # PAY natural persons need a KYC class; class III has the widest limits


def bank_view(st) -> int:
    return st.own["RC1"] if st.plan.ent_type == "PAY" else st.bank_view


def outsiders(st, rng: np.random.Generator, n: int, onboard: int, legal: bool = False) -> np.ndarray:
    """Known counterparties without an account at the enterprise."""
    if legal:
        return st.add_legals(rng, n, onboard, (("F", 1.0),))
    return st.add_naturals(rng, n, onboard, kyc=np.full(n, KYC_III, np.int8))


def customers(
    st, rng: np.random.Generator, n: int, open_day: int, legal: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """New customers with one customer account each (a wallet at PAY, a sub-account elsewhere)."""
    party = outsiders(st, rng, n, open_day, legal=legal)
    pay = st.plan.ent_type == "PAY"
    start = len(st.accounts)
    acct = st.accounts.add(
        names=[f"{'W' if pay else 'S'}{i + 1:07d}" for i in range(start, start + n)],
        cls=CLS["CUSTOMER_WALLET"] if pay else CLS["CUSTOMER_SUB"],
        open_day=open_day,
        owner=party,
        parent=-1 if pay else st.own["CS1"],
    )
    return party, acct


def receive(lg: Ledger, st, *, t, sender, acct, owner, amt, self_funded: bool = False) -> None:
    """Money from outside into `acct`: a top-up from the owner's own card, or a payment from `sender`."""
    inflow(
        lg,
        st.parties,
        t=t,
        party=np.atleast_1d(sender),
        acct=acct,
        bank_acct=bank_view(st),
        amt=amt,
        ch=CH["card"] if self_funded else CH["transfer"],
        pur=PUR["top_up"] if self_funded else PUR["payment"],
        payee=np.atleast_1d(owner),
    )


def send(lg: Ledger, st, *, t, acct, owner, receiver, amt) -> None:
    """Money from `acct` to `receiver`'s bank account outside the enterprise."""
    receiver = np.atleast_1d(np.asarray(receiver, np.int64))
    ev = lg.new_events(len(receiver))
    cp = cp_fields(st.parties, receiver)
    common = dict(ev=ev, t=t, payer=owner, payee=receiver, amt=amt, ch=CH["transfer"], pur=PUR["withdrawal"])
    lg.add(cust=True, dr=acct, **common, **cp)
    lg.add(cust=False, dr=bank_view(st), **common, **cp)


def settle(lg: Ledger, st, period, *, acct, owner, amt: int) -> None:
    """The owner takes what is left to its own bank account on the period's last evening: the generator
    checks that customer closings follow from the business simulation, in which the new accounts hold
    nothing, so every injected account ends the period at zero."""
    if amt > 0:
        send(lg, st, t=(period.ndays - 1) * DAY + 20 * 3600, acct=acct, owner=owner, receiver=owner, amt=amt)


def transfer(lg: Ledger, *, t, dr, cr, payer, payee, amt) -> None:
    """Money between two customer accounts of the enterprise (a customer leg only)."""
    lg.add(
        ev=lg.new_events(1),
        cust=True,
        t=t,
        dr=dr,
        cr=cr,
        payer=payer,
        payee=payee,
        amt=amt,
        ch=CH["online_balance"],
        pur=PUR["payment"],
    )


def at(day: int, rng: np.random.Generator, hour_lo: int = 9, hour_hi: int = 18) -> int:
    """Seconds after the period's first midnight: a random time of day `day` between the hours."""
    return day * DAY + int(rng.integers(hour_lo * 3600, hour_hi * 3600))


def case_txns(
    tables: dict[str, pl.DataFrame],
    parties: np.ndarray,
    *,
    purpose: str | None = None,
    between_parties: bool = False,
) -> list[str]:
    """The customer legs of the case's parties (the injection's own legs: the parties are new), optionally
    of one purpose or only those between two different parties (not to or from one's own card)."""
    who = ids("party", parties).to_list()
    mine = tables["transactions"].filter(
        (pl.col("leg") == "customer")
        & (pl.col("payer_party_id").is_in(who) | pl.col("payee_party_id").is_in(who))
    )
    if purpose is not None:
        mine = mine.filter(pl.col("purpose") == purpose)
    if between_parties:
        mine = mine.filter(pl.col("payer_party_id") != pl.col("payee_party_id"))
    return mine.sort("booked_at", "txn_id")["txn_id"].to_list()
