"""What an enterprise carries from one period to the next."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import polars as pl

from pipelines.synth.aml import Reports
from pipelines.synth.books import AccountBook, PartyBook
from pipelines.synth.complaints import Complaints
from pipelines.synth.identity import COUNTRIES, REGIONS, SECTORS
from pipelines.synth.population import SHARED_POOL, EnterprisePlan

B = TypeVar("B")


def natural_region(serial: np.ndarray) -> np.ndarray:
    """Home district of a natural person, fixed by the person's serial (the same person, the same region)."""
    return np.asarray([int(REGIONS[s % len(REGIONS)]) for s in np.asarray(serial).tolist()], np.int32)


@dataclass
class EnterpriseState:
    plan: EnterprisePlan
    seed: int
    parties: PartyBook = field(default_factory=PartyBook)
    accounts: AccountBook = field(default_factory=AccountBook)
    own: dict[str, int] = field(default_factory=dict)  # own account name -> index
    bank_view: int = -1  # the account customer money enters through (RESERVE_BANK or CUSTODY_SUMMARY)
    serial_next: int = 0
    # received, not closed by the last period end
    open_complaints: Complaints = field(default_factory=Complaints.empty)
    pending_lvtr: Reports = field(default_factory=Reports.empty)  # reports due in the next period
    complaint_seq: int = 0
    lvtr_seq: int = 0
    str_seq: int = 0  # suspicious transaction reports filed so far
    biz: object = None  # the business module's own state: read it with `business(<its class>)`
    shared_order: np.ndarray | None = None  # this enterprise's order of drawing from the shared pool
    shared_next: int = 0
    filed_balances: pl.DataFrame | None = (
        None  # the last filed period's account_balances (quality.copy_forward)
    )
    filed_totals: list[int] = field(
        default_factory=list
    )  # transactions control total (cents) per filed period

    def business(self, kind: type[B]) -> B:
        """The business module's own state, which `init` set to an instance of `kind`."""
        if not isinstance(self.biz, kind):
            raise TypeError(
                f"{self.plan.enterprise_id}: business state is {type(self.biz).__name__}, not {kind.__name__}"
            )
        return self.biz

    # ---- parties ----------------------------------------------------------------------------------------

    def serials(self, n: int) -> np.ndarray:
        """Market-unique serials for new parties of this enterprise."""
        k = np.arange(self.serial_next, self.serial_next + n, dtype=np.int64)
        self.serial_next += n
        return SHARED_POOL + k * self.plan.market_size + self.plan.index

    def add_naturals(
        self,
        rng: np.random.Generator,
        n: int,
        onboard,
        *,
        foreign_share: float = 0.0,
        shared_share: float = 0.0,
        kyc: np.ndarray | None = None,
        related: np.ndarray | None = None,
        dishonest: np.ndarray | None = None,
    ) -> np.ndarray:
        serial = self.serials(n)
        shared = rng.random(n) < shared_share
        if shared.any():
            if self.shared_order is None:
                self.shared_order = rng.permutation(SHARED_POOL)
            k = min(int(shared.sum()), SHARED_POOL - self.shared_next)
            where = np.flatnonzero(shared)[:k]
            shared[:] = False
            shared[where] = True
            serial[where] = self.shared_order[self.shared_next : self.shared_next + k]
            self.shared_next += k
        foreign = (rng.random(n) < foreign_share) & ~shared
        country = np.where(foreign, rng.integers(1, len(COUNTRIES), n), 0).astype(np.int16)
        region = np.where(foreign, -1, natural_region(serial))
        return self.parties.add(
            kind=np.zeros(n, np.int8),
            country=country,
            region=region,
            sector=np.full(n, -1, np.int8),
            onboard=onboard,
            serial=serial,
            kyc=kyc,
            related=related,
            dishonest=dishonest,
        )

    def add_legals(
        self,
        rng: np.random.Generator,
        n: int,
        onboard,
        sectors: tuple[tuple[str, float], ...],
        *,
        related: np.ndarray | None = None,
        regions: np.ndarray | None = None,
    ) -> np.ndarray:
        serial = self.serials(n)
        codes = [s for s, _ in sectors]
        w = np.array([p for _, p in sectors])
        sector = np.array(
            [SECTORS.index(codes[i]) for i in rng.choice(len(codes), n, p=w / w.sum())], np.int8
        )
        if regions is None:
            regions = np.array([int(REGIONS[i]) for i in rng.integers(0, len(REGIONS), n)], np.int32)
        return self.parties.add(
            kind=np.ones(n, np.int8),
            country=np.zeros(n, np.int16),
            region=regions,
            sector=sector,
            onboard=onboard,
            serial=serial,
            related=related,
        )

    def add_own_account(self, name: str, cls: int, bank: str, open_day: int, balance: int = 0) -> int:
        idx = int(
            self.accounts.add(
                names=[name], cls=cls, open_day=open_day, bank=bank, balance=balance, last_activity=-1
            )[0]
        )
        self.own[name] = idx
        return idx


__all__ = ["EnterpriseState", "natural_region"]
