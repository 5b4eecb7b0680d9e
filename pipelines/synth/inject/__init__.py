"""Irregularity injectors, one module per class of irregularities.md (`<family>_<name>.py`); importing this
package imports every such module in name order, which registers them — adding a class touches no shared
file."""

import importlib
import pkgutil

from pipelines.synth.inject.base import REGISTRY, Case, Context, Injector, register
from pipelines.synth.inject.planner import plan_cases

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name not in ("base", "planner"):
        importlib.import_module(f"{__name__}.{_info.name}")

DEFAULT_CLASSES: tuple[str, ...] = tuple(REGISTRY)

__all__ = ["REGISTRY", "DEFAULT_CLASSES", "Case", "Context", "Injector", "register", "plan_cases"]
