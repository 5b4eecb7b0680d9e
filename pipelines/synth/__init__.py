"""Synthetic filing generator: a coherent simulated market of PAY, P2P, CF and WM enterprises filing month by
month (spec/filings.md), with irregularities injected at known places and their ground truth
(spec/irregularities.md).

    from pipelines.synth import generate
    summary = generate(home.landing, home.truth / "truth.jsonl", preset="tiny", seed=7)
"""

from pipelines.synth.generate import SynthSummary, generate
from pipelines.synth.presets import PRESETS

__all__ = ["generate", "SynthSummary", "PRESETS"]
