"""Synthetic filing generator: a coherent simulated market of PAY, P2P, CF and WM enterprises filing month by
month (spec/filings.md), with irregularities injected at known places and their ground truth
(spec/irregularities.md). The package format it writes is pipelines.filing_package.

    from pipelines.synth.run import generate
    summary = generate(home.landing, home.truth / "truth.jsonl", preset="tiny", seed=7)

Importing this package imports nothing: import what you use from its module. `from pipelines.synth import
generate` (and SynthSummary, PRESETS) still works; it loads the generator on first use.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "generate": "pipelines.synth.run",
    "SynthSummary": "pipelines.synth.run",
    "PRESETS": "pipelines.synth.presets",
}

__all__ = ["generate", "SynthSummary", "PRESETS"]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
