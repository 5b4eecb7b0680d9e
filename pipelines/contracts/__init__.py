"""Filing contracts: the machine-readable form of spec/filings.md, one YAML file per filing type.

The contracts are the single source of truth for parsing (intake), the validity suites (quality),
the dbt sources and the docs. Load them with :func:`load_contracts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

CONTRACTS_DIR = Path(__file__).parent


@dataclass(frozen=True)
class ValueKind:
    name: str
    duckdb: str
    description: str
    syntax: str | None = None  # regex a non-null delivered value must match (S stage)
    validity: str | None = None  # regex a parsed value must match (V stage)


@dataclass(frozen=True)
class Column:
    name: str
    kind: ValueKind
    description: str = ""
    required: bool = True
    required_when: str | None = None  # SQL over the row: the value must be present when true
    null_unless: str | None = None  # SQL over the row: the value must be null when false
    values: tuple[str, ...] = ()
    min: float | None = None
    min_exclusive: float | None = None
    max: float | None = None
    format: str | None = None  # a named special check, e.g. "uscc"
    in_period: bool = False  # within the period
    not_after_period_end: bool = False  # on or before the period's last day
    period_end: bool = False  # equals the period's last day

    @property
    def type(self) -> str:
        return self.kind.name

    @property
    def duckdb_type(self) -> str:
        return self.kind.duckdb

    @property
    def always_required(self) -> bool:
        return self.required and self.required_when is None and self.null_unless is None

    @property
    def requirement(self) -> str:
        """Human wording of when the field must be present, for docs and messages."""
        if self.required_when and self.null_unless:
            return f"required when {self.required_when}; null otherwise"
        if self.required_when:
            return f"required when {self.required_when}; optional otherwise"
        if self.null_unless:
            return f"optional when {self.null_unless}; null otherwise"
        return "required" if self.required else "optional"


@dataclass(frozen=True)
class Contract:
    filing_type: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    control_totals: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.filing_type} has no column {name!r}")

    def duckdb_columns(self) -> dict[str, str]:
        return {c.name: c.duckdb_type for c in self.columns}


@cache
def value_kinds() -> dict[str, ValueKind]:
    raw = yaml.safe_load((CONTRACTS_DIR / "_types.yml").read_text(encoding="utf-8"))
    return {name: ValueKind(name=name, **spec) for name, spec in raw.items()}


def _column(spec: dict, kinds: dict[str, ValueKind], filing_type: str) -> Column:
    spec = dict(spec)
    kind_name = spec.pop("type")
    if kind_name not in kinds:
        raise ValueError(f"contract {filing_type}: column {spec['name']} has unknown type {kind_name!r}")
    spec["values"] = tuple(spec.get("values", ()))
    if "required" not in spec:
        # a conditional field is not required outside its condition
        spec["required"] = "required_when" not in spec and "null_unless" not in spec
    return Column(kind=kinds[kind_name], **spec)


@cache
def load_contracts() -> dict[str, Contract]:
    """All filing contracts keyed by filing type, in spec order."""
    kinds = value_kinds()
    contracts: dict[str, Contract] = {}
    for path in sorted(CONTRACTS_DIR.glob("*.yml")):
        if path.name.startswith("_"):
            continue
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        ft = raw["filing_type"]
        if ft != path.stem:
            raise ValueError(f"{path.name} declares filing_type {ft!r}")
        contracts[ft] = Contract(
            filing_type=ft,
            description=raw.get("description", "").strip(),
            key=tuple(raw["key"]),
            columns=tuple(_column(c, kinds, ft) for c in raw["columns"]),
            control_totals=tuple(raw.get("control_totals", ())),
        )
    return {ft: contracts[ft] for ft in FILING_TYPES}


# Spec order of the filing types (spec/filings.md, "Filing types").
FILING_TYPES: tuple[str, ...] = (
    "enterprise_profile",
    "parties",
    "accounts",
    "account_balances",
    "transactions",
    "loans",
    "investments",
    "liquidity",
    "complaints",
    "incidents",
    "aml_reports",
)


def contract(filing_type: str) -> Contract:
    return load_contracts()[filing_type]
