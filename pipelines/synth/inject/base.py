"""The injection framework: an injector per irregularity class (irregularities.md), registered by name.

An injector says where it may go (enterprise types, peers, history, its own test) and acts through hooks
called at fixed points of an enterprise-period:

- ``prepare``      before simulating (tune the simulation, e.g. complaint volume);
- ``adjust_legs``  after the business legs are booked, before balances are derived (real transfers);
- ``adjust_tables`` on the accepted filings (data that stays);
- ``break_tables`` / ``break_files``  on a copy for a broken v1 (``resubmits``: a corrected v2 follows);
- ``delivery``     on the delivery times.

Every change is made before what depends on it is derived (balances from legs, control totals and
checksums from the files), so only the expected rules fire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import numpy as np
import polars as pl

from pipelines.synth.ledger import Ledger
from pipelines.synth.periods import Period
from pipelines.synth.population import EnterprisePlan
from pipelines.synth.presets import ENT_TYPES
from pipelines.synth.state import EnterpriseState


@dataclass
class Case:
    """One injected case: its ground truth (irregularities.md, "Ground truth format")."""

    case_id: str
    cls: str
    enterprise_id: str
    period: str
    submission_id: str
    expected: list[str]
    records: dict[str, list[str]] = field(default_factory=dict)
    parties: list[str] = field(default_factory=list)

    def truth(self) -> dict:
        return {
            "case_id": self.case_id,
            "class": self.cls,
            "enterprise_id": self.enterprise_id,
            "period": self.period,
            "submission_id": self.submission_id,
            "expected": list(self.expected),
            "records": self.records,
            "parties": self.parties,
        }


@dataclass
class Context:
    """What a hook may see and change for its enterprise-period."""

    case: Case
    plan: EnterprisePlan
    period: Period
    rng: np.random.Generator
    state: EnterpriseState
    complaint_multiplier: float = 1.0
    complaint_minimum: int = 0
    # Set by the engine before `adjust_legs`: account balances when the period began (cents).
    opening: np.ndarray = field(init=False, repr=False, compare=False)
    # Set by an aml injector's `adjust_legs` for its `adjust_tables`: the case's parties, and for
    # aml.dormant_reactivation the reactivated account and how many days it was idle.
    aml_party: np.ndarray = field(init=False, repr=False, compare=False)
    aml_account: str = field(init=False, repr=False, compare=False)
    aml_idle: int = field(init=False, repr=False, compare=False)


class Injector:
    name: ClassVar[str]
    expected: ClassVar[tuple[str, ...]]
    ent_types: ClassVar[tuple[str, ...]] = ENT_TYPES
    needs_history: ClassVar[bool] = False  # never into the first period
    min_peers: ClassVar[int] = 0  # other enterprises of the same type needed
    resubmits: ClassVar[bool] = False  # a broken v1, then a corrected complete v2
    files_nothing: ClassVar[bool] = False  # no submission at all: its type has one peer fewer that period
    # May share its enterprise-period with cases of other stackable families (default: supervisory and
    # aml classes, which go into otherwise valid submissions); the others always go alone.
    stacks: ClassVar[bool | None] = None

    @property
    def family(self) -> str:
        return self.name.split(".")[0]

    @property
    def stackable(self) -> bool:
        if self.stacks is not None:
            return self.stacks and not self.resubmits
        return self.family in ("supervisory", "aml") and not self.resubmits

    def eligible(self, plan: EnterprisePlan, period_index: int) -> bool:
        return True

    def prepare(self, ctx: Context) -> None:
        pass

    def adjust_legs(self, ctx: Context, lg: Ledger) -> None:
        pass

    def adjust_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> None:
        pass

    def break_tables(self, ctx: Context, tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        return tables

    def break_files(self, ctx: Context, folder: Path, manifest: dict) -> None:
        pass

    def delivery(self, ctx: Context, times: list[datetime]) -> list[datetime]:
        return times


REGISTRY: dict[str, Injector] = {}


def register(cls: type[Injector]) -> type[Injector]:
    if cls.name in REGISTRY:
        raise ValueError(f"injector {cls.name} registered twice")
    REGISTRY[cls.name] = cls()
    return cls
