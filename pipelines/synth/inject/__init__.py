"""Irregularity injectors, one module per class of irregularities.md (`<family>_<name>.py`); importing this
package imports every such module in name order, which registers them — adding a class touches no shared
file. The planner that places cases is pipelines.synth.inject.planner (it reads the registry, so this
package does not import it: `from pipelines.synth.inject import plan_cases` still works, on first use)."""

import importlib
import pkgutil

from pipelines.synth.inject.base import REGISTRY, Case, Context, Injector, register

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name not in ("base", "planner"):
        importlib.import_module(f"{__name__}.{_info.name}")

DEFAULT_CLASSES: tuple[str, ...] = tuple(REGISTRY)

__all__ = ["REGISTRY", "DEFAULT_CLASSES", "Case", "Context", "Injector", "register", "plan_cases"]


def __getattr__(name: str):
    if name != "plan_cases":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from pipelines.synth.inject.planner import plan_cases

    return plan_cases
