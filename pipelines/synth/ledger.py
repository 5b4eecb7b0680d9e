"""Transaction legs, accumulated column-wise while simulating and finalised into the transactions filing.

A business event is one `ev` number with one or more legs: customer legs (what happened to customers' money)
and bank legs (what happened in the enterprise's own accounts), as spec/filings.md "Typical events" shows.
Accounts, parties, loans, investments and campaigns are integer indices (-1 = null) until finalised.
"""

from __future__ import annotations

import numpy as np

from pipelines.contracts import contract
from pipelines.synth.books import PartyBook
from pipelines.synth.identity import COUNTRIES

PURPOSES: tuple[str, ...] = contract("transactions").column("purpose").values
CHANNELS: tuple[str, ...] = contract("transactions").column("channel").values
PUR = {p: i for i, p in enumerate(PURPOSES)}
CH = {c: i for i, c in enumerate(CHANNELS)}

# column -> (dtype, default); a default of None means required
COLUMNS: dict[str, tuple[type, object]] = {
    "ev": (np.int64, None),
    "cust": (bool, None),
    "t": (np.int64, None),
    "amt": (np.int64, None),
    "ch": (np.int8, None),
    "pur": (np.int8, None),
    "dr": (np.int64, -1),
    "cr": (np.int64, -1),
    "payer": (np.int64, -1),
    "payee": (np.int64, -1),
    "pp": (np.int64, -1),
    "ip": (np.int64, -1),
    "fp": (np.int64, -1),
    "loan": (np.int64, -1),
    "inv": (np.int64, -1),
    "camp": (np.int64, -1),
    "xb": (bool, False),
    "cpc": (np.int16, -1),
    "cpr": (np.int64, -1),
    "cps": (np.int8, -1),
    "failed": (bool, False),
    "rev": (np.int64, -1),
}
CN = COUNTRIES.index("CN")


class Ledger:
    """Growing column store of legs for one enterprise-period. `t` is seconds after the period's first
    midnight, Shanghai time. Scalars are kept as scalars until the columns are built."""

    def __init__(self) -> None:
        self._lens: list[int] = []
        self._vals: dict[str, list] = {k: [] for k in COLUMNS}  # per batch: the scalar (or default)
        self._arrs: dict[str, list[tuple[int, np.ndarray]]] = {k: [] for k in COLUMNS}  # per batch arrays
        self._events = 0
        self.size = 0

    def new_events(self, n: int) -> np.ndarray:
        ev = np.arange(self._events, self._events + n, dtype=np.int64)
        self._events += n
        return ev

    def add(self, **cols) -> np.ndarray:
        """Append legs; scalars (and length-1 arrays) broadcast. Returns the legs' insertion indices."""
        sizes = [len(v) for v in cols.values() if hasattr(v, "__len__")]
        n = max(sizes) if sizes else 1
        if n == 0:
            return np.zeros(0, np.int64)
        unknown = set(cols) - COLUMNS.keys()
        if unknown:
            raise ValueError(f"unknown leg columns {sorted(unknown)}")
        batch = len(self._lens)
        for k, (dtype, default) in COLUMNS.items():
            v = cols.get(k, default)
            if v is None:
                raise ValueError(f"leg column {k} is required")
            if not hasattr(v, "__len__"):
                self._vals[k].append(v)
                continue
            arr: np.ndarray = np.array(v, dtype=dtype)
            if arr.shape == (1,) and n > 1:
                self._vals[k].append(arr[0])
                continue
            if arr.shape != (n,):
                raise ValueError(f"leg column {k} has {arr.shape[0]} values, expected {n}")
            self._vals[k].append(default if default is not None else 0)
            self._arrs[k].append((batch, arr))
        self._lens.append(n)
        idx = np.arange(self.size, self.size + n, dtype=np.int64)
        self.size += n
        return idx

    def columns(self) -> dict[str, np.ndarray]:
        lens = np.asarray(self._lens, np.int64)
        starts = np.concatenate([[0], np.cumsum(lens)])
        out = {}
        for k, (dtype, _) in COLUMNS.items():
            col: np.ndarray = (
                np.repeat(np.asarray(self._vals[k], dtype=dtype), lens) if len(lens) else np.zeros(0, dtype)
            )
            for b, arr in self._arrs[k]:
                col[starts[b] : starts[b + 1]] = arr
            out[k] = col
        return out

    def replace(self, cols: dict[str, np.ndarray]) -> None:
        """Replace the whole store (used by injections that rewrite legs)."""
        n = len(cols["ev"])
        self._lens = [n] if n else []
        self._vals = {k: ([0] if n else []) for k in COLUMNS}
        self._arrs = {k: ([(0, np.asarray(cols[k], COLUMNS[k][0]))] if n else []) for k in COLUMNS}
        self.size = n
        self._events = int(cols["ev"].max()) + 1 if n else 0


def cp_fields(parties: PartyBook, party: np.ndarray) -> dict[str, np.ndarray]:
    """Counterparty columns for the external side of a leg, taken from the party's profile."""
    country = parties.country[party]
    cn = country == CN
    legal = parties.kind[party] == 1
    return {
        "xb": ~cn,
        "cpc": country,
        "cpr": np.where(cn, parties.region[party], -1),
        "cps": np.where(legal, parties.sector[party], -1),
    }


# ---- typical events (spec/filings.md) -------------------------------------------------------------


def inflow(
    lg: Ledger,
    parties: PartyBook,
    *,
    t,
    party,
    acct,
    bank_acct,
    amt,
    ch,
    pur,
    payee=None,
    camp=-1,
    failed=False,
    ev=None,
) -> np.ndarray:
    """Money from outside into a customer account: customer leg outside -> acct, bank leg outside -> bank view."""
    party = np.asarray(party, np.int64)
    ev = lg.new_events(len(party)) if ev is None else ev
    cp = cp_fields(parties, party)
    payee = party if payee is None else payee
    lg.add(
        ev=ev,
        cust=True,
        t=t,
        cr=acct,
        payer=party,
        payee=payee,
        amt=amt,
        ch=ch,
        pur=pur,
        camp=camp,
        failed=failed,
        **cp,
    )
    lg.add(
        ev=ev,
        cust=False,
        t=t,
        cr=bank_acct,
        payer=party,
        amt=amt,
        ch=ch,
        pur=pur,
        camp=camp,
        failed=failed,
        **cp,
    )
    return ev


def outflow(
    lg: Ledger, parties: PartyBook, *, t, party, acct, bank_acct, amt, ch, pur, camp=-1, failed=False
) -> np.ndarray:
    """Money from a customer account to the customer's own account outside (a withdrawal)."""
    party = np.asarray(party, np.int64)
    ev = lg.new_events(len(party))
    cp = cp_fields(parties, party)
    lg.add(
        ev=ev,
        cust=True,
        t=t,
        dr=acct,
        payer=party,
        payee=party,
        amt=amt,
        ch=ch,
        pur=pur,
        camp=camp,
        failed=failed,
        **cp,
    )
    lg.add(
        ev=ev,
        cust=False,
        t=t,
        dr=bank_acct,
        payee=party,
        amt=amt,
        ch=ch,
        pur=pur,
        camp=camp,
        failed=failed,
        **cp,
    )
    return ev


def fee(lg: Ledger, *, t, payer, acct, bank_view, own, amt, camp=-1) -> np.ndarray:
    """A fee: customer leg customer account -> own account, bank leg bank view -> own account."""
    payer = np.asarray(payer, np.int64)
    ev = lg.new_events(len(payer))
    lg.add(
        ev=ev,
        cust=True,
        t=t,
        dr=acct,
        cr=own,
        payer=payer,
        amt=amt,
        ch=CH["online_balance"],
        pur=PUR["fee"],
        camp=camp,
    )
    lg.add(
        ev=ev, cust=False, t=t, dr=bank_view, cr=own, amt=amt, ch=CH["transfer"], pur=PUR["fee"], camp=camp
    )
    return ev


def bank_external(
    lg: Ledger,
    parties: PartyBook,
    *,
    t,
    acct,
    counterparty,
    amt,
    pur,
    outgoing: bool,
    payee_named: bool = True,
) -> np.ndarray:
    """A bank leg between an own account and an outside counterparty (opex, fund settlement, ...)."""
    cpty = np.asarray(counterparty, np.int64)
    ev = lg.new_events(len(cpty))
    cp = cp_fields(parties, cpty)
    named = cpty if payee_named else -1
    if outgoing:
        lg.add(ev=ev, cust=False, t=t, dr=acct, payee=named, amt=amt, ch=CH["transfer"], pur=pur, **cp)
    else:
        lg.add(ev=ev, cust=False, t=t, cr=acct, payer=named, amt=amt, ch=CH["transfer"], pur=pur, **cp)
    return ev
