"""The simulated market: who the enterprises are and how big (decided once per run, before any work)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.filing_package import uscc
from pipelines.synth import identity
from pipelines.synth.presets import ENT_TYPES, LEG_SHARE, SIZE_DECADES
from pipelines.synth.rng import stream

SHARED_POOL = 20_000  # people known to several enterprises (same id_hash everywhere)


@dataclass(frozen=True)
class EnterprisePlan:
    index: int  # 0-based position in the market
    enterprise_id: str
    ent_type: str
    peers: int  # other enterprises of the same type
    legs_per_month: float  # target volume
    uscc: str
    name: str
    licence_no: str
    region: str  # registered district (6 digits)
    custodian_bank: str | None
    own_bank: str
    paid_in_capital: int  # cents
    growth: float  # monthly growth of customer money
    complaint_rate: float  # complaints per 10k active customers per month
    market_size: int  # enterprises in the market (for party serials)

    @property
    def province_code(self) -> str:
        return self.region[:2] + "0000"

    @property
    def custodian(self) -> str:
        """The custodian bank of a P2P, CF or WM platform (a PAY enterprise has none: it keeps reserves)."""
        if self.custodian_bank is None:
            raise ValueError(f"{self.enterprise_id} ({self.ent_type}) has no custodian bank")
        return self.custodian_bank


LICENCE = {"PAY": "Z20{p}{n:09d}", "P2P": "YJ{p}{n:08d}", "CF": "ZC{p}{n:08d}", "WM": "JJ{p}{n:08d}"}
COMPLAINT_RATE = {"PAY": 150.0, "P2P": 200.0, "CF": 200.0, "WM": 200.0}  # per 10k active customers a month


def plan_market(seed: int, enterprises: int, legs_per_month: int) -> list[EnterprisePlan]:
    """Enterprises of the four types in turn (PAY, P2P, CF, WM); sizes log-uniform within a type."""
    rng = stream(seed, "market")
    counts = {t: enterprises // 4 + (i < enterprises % 4) for i, t in enumerate(ENT_TYPES)}
    plans: list[EnterprisePlan] = []
    for ti, ent_type in enumerate(ENT_TYPES):
        n = counts[ent_type]
        if n == 0:
            continue
        rank = rng.permutation(n)
        weight = 10 ** (SIZE_DECADES * (rank + 0.5) / n)
        legs = LEG_SHARE[ent_type] * legs_per_month * weight / weight.sum()
        for k in range(n):
            number = k + 1
            region = identity.HQ_REGIONS[int(rng.integers(len(identity.HQ_REGIONS)))]
            banks = rng.permutation(len(identity.BANKS))
            custodian = identity.BANKS[banks[0]] if ent_type != "PAY" else None
            capital_m = 100 if ent_type == "PAY" else 10
            capital = (
                int(capital_m * 1e6 * (1 + rank[k] / max(n - 1, 1) * 9) * rng.uniform(1, 2)) // 10000 * 10000
            )
            serial = ti * 10_000 + number
            plans.append(
                EnterprisePlan(
                    index=-1,  # set below
                    enterprise_id=f"{ent_type}{number:04d}",
                    ent_type=ent_type,
                    peers=n - 1,
                    legs_per_month=float(legs[k]),
                    uscc=uscc.make(region, serial),
                    name=identity.enterprise_name(ent_type, region, serial * 7 + int(rng.integers(1000))),
                    licence_no=LICENCE[ent_type].format(p=region[:2], n=serial),
                    region=region,
                    custodian_bank=custodian,
                    own_bank=identity.BANKS[banks[1]],
                    paid_in_capital=capital * 100,
                    growth=float(rng.uniform(0.02, 0.05)),
                    complaint_rate=float(COMPLAINT_RATE[ent_type] * np.exp(0.08 * rng.standard_normal())),
                    market_size=enterprises,
                )
            )
    # market order: by type then number; indices fixed here
    return [
        EnterprisePlan(**{**p.__dict__, "index": i})
        for i, p in enumerate(sorted(plans, key=lambda p: (ENT_TYPES.index(p.ent_type), p.enterprise_id)))
    ]
