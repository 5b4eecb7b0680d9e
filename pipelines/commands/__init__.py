"""Further `suptech` verbs, one module each: every module here (but `common`) defines
`register(cli: click.Group) -> None` and is picked up by `register_all`, so adding a verb touches no
shared file."""

from __future__ import annotations

import importlib
import pkgutil

import click


def register_all(cli: click.Group) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name == "common":
            continue
        importlib.import_module(f"{__name__}.{info.name}").register(cli)
