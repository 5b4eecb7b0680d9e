"""One home for all state: every location derives from SUPTECH_HOME (default ./var)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = "./var"


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike | None = None) -> Home:
        """The home given, else $SUPTECH_HOME, else ./var (absolute)."""
        value = home if home is not None else os.environ.get("SUPTECH_HOME", DEFAULT_HOME)
        return cls(Path(value).expanduser().resolve())

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def warehouse_dir(self) -> Path:
        return self.root / "warehouse"

    @property
    def warehouse(self) -> Path:
        """The live DuckDB file. Only the single writer opens it."""
        return self.warehouse_dir / "suptech.duckdb"

    @property
    def published(self) -> Path:
        return self.root / "published"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def truth(self) -> Path:
        """Generator ground truth. The cycle never reads it."""
        return self.root / "truth"

    @property
    def tmp(self) -> Path:
        """Scratch space of the intake (transcoded files); never holds delivered bytes."""
        return self.root / "tmp"

    @property
    def dbt_target(self) -> Path:
        return self.root / "dbt" / "target"

    def ensure(self) -> Home:
        for p in (
            self.landing,
            self.archive,
            self.warehouse_dir,
            self.published,
            self.reports,
            self.truth,
            self.tmp,
        ):
            p.mkdir(parents=True, exist_ok=True)
        return self
