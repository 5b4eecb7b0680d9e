"""Generator presets (spec/targets.md, "Scales") and the shape of the simulated market."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    enterprises: int
    months: int
    legs_per_month: int  # transaction legs per month over all enterprises (approximate)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("tiny", 24, 4, 30_000),
        Preset("small", 100, 4, 1_000_000),
        Preset("medium", 400, 3, 5_000_000),
        Preset("national", 2000, 3, 50_000_000),
    )
}

ENT_TYPES: tuple[str, ...] = ("PAY", "P2P", "CF", "WM")
# share of the market's transaction legs per enterprise type
LEG_SHARE: dict[str, float] = {"PAY": 0.55, "P2P": 0.2, "CF": 0.1, "WM": 0.15}
# enterprise sizes within a type spread log-uniformly over this many orders of magnitude
SIZE_DECADES = 2.0
