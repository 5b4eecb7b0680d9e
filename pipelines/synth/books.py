"""Per-enterprise registries of parties and accounts (columnar, growing), with their state between periods."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipelines.contracts import contract
from pipelines.synth.identity import identifiers

ACCOUNT_CLASSES: tuple[str, ...] = contract("accounts").column("account_class").values
CLS = {name: i for i, name in enumerate(ACCOUNT_CLASSES)}
CUSTOMER_CLASSES = frozenset({CLS["CUSTOMER_WALLET"], CLS["CUSTOMER_SUB"]})
KYC: tuple[str, ...] = contract("parties").column("kyc_class").values  # I, II, III


def _grow(arr: np.ndarray, values) -> np.ndarray:
    return np.concatenate([arr, np.asarray(values, dtype=arr.dtype)])


@dataclass
class PartyBook:
    """Every party the enterprise knows. Index i has party_id P{i+1:07d}."""

    kind: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))  # 0 natural, 1 legal
    country: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))  # index into COUNTRIES
    region: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # 6-digit code or -1
    sector: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))  # index into SECTORS or -1
    related: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    kyc: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))  # index into KYC or -1
    dishonest: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    onboard: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # day ordinal
    id_hash: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.kind)

    def add(
        self,
        *,
        kind,
        country,
        region,
        sector,
        onboard,
        serial,
        related=None,
        kyc=None,
        dishonest=None,
        id_hashes: list[str] | None = None,
    ) -> np.ndarray:
        """Append parties (arrays of equal length); returns their indices."""
        kind = np.asarray(kind, np.int8)
        n = len(kind)
        start = len(self)
        self.kind = _grow(self.kind, kind)
        self.country = _grow(self.country, country)
        self.region = _grow(self.region, region)
        self.sector = _grow(self.sector, sector)
        self.related = _grow(self.related, np.zeros(n, bool) if related is None else related)
        self.kyc = _grow(self.kyc, np.full(n, -1) if kyc is None else kyc)
        self.dishonest = _grow(self.dishonest, np.zeros(n, bool) if dishonest is None else dishonest)
        self.onboard = _grow(self.onboard, np.broadcast_to(np.asarray(onboard, np.int64), (n,)))
        if id_hashes is None:
            id_hashes = identifiers(kind, np.asarray(country), np.asarray(region), np.asarray(serial))
        self.id_hash.extend(id_hashes)
        return np.arange(start, start + n)


@dataclass
class AccountBook:
    """Every account of the enterprise. Balances are the closings of the last simulated day."""

    name: list[str] = field(default_factory=list)
    cls: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    owner: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # party index or -1
    parent: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # account index or -1
    campaign: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # campaign index or -1
    bank: list[str | None] = field(default_factory=list)
    open: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # day ordinal
    balance: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # cents
    last_activity: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # ordinal or -1

    def __len__(self) -> int:
        return len(self.cls)

    def add(
        self,
        *,
        names: list[str],
        cls: int | np.ndarray,
        open_day,
        owner=-1,
        parent=-1,
        campaign=-1,
        bank: str | None = None,
        balance=0,
        last_activity=-1,
    ) -> np.ndarray:
        n = len(names)
        start = len(self)
        b = np.broadcast_to
        self.name.extend(names)
        self.cls = _grow(self.cls, b(np.asarray(cls, np.int8), (n,)))
        self.owner = _grow(self.owner, b(np.asarray(owner, np.int64), (n,)))
        self.parent = _grow(self.parent, b(np.asarray(parent, np.int64), (n,)))
        self.campaign = _grow(self.campaign, b(np.asarray(campaign, np.int64), (n,)))
        self.bank.extend([bank] * n)
        self.open = _grow(self.open, b(np.asarray(open_day, np.int64), (n,)))
        self.balance = _grow(self.balance, b(np.asarray(balance, np.int64), (n,)))
        self.last_activity = _grow(self.last_activity, b(np.asarray(last_activity, np.int64), (n,)))
        return np.arange(start, start + n)

    def is_customer(self) -> np.ndarray:
        return np.isin(self.cls, list(CUSTOMER_CLASSES))
