"""One rule model for every stage (rules.md): a rule is its **catalog entry** (``catalog/*.yml``: id, stage,
severity, the files its findings point at, fix text, shadow) plus **one definition**.

For S (syntactical) rules the definition is a **check**: a function registered with :func:`syntax_rule`
that returns the rule's problems, and/or the read failures the rule claims (the kinds a one-pass reader,
the manifest parser or the intake itself raises; the rule whose definition claims a kind reports it).
The S definitions live in :mod:`pipelines.intake.syntax`; the intake calls them in its order.

For V (cross-column and cross-file), Q and M rules the definition is a SQL query registered with
:func:`sql_rule`, run by :mod:`pipelines.quality.runner` over the context table ``_rule_subs`` (one row per
submission in scope, see :data:`pipelines.quality.runner.CONTEXT_SQL`). The query returns one row per
finding with the columns::

    submission_id, filing_type, _row (the delivered row, or null), record_key, fields (list of
    {field, value}), message

The V column checks are not registered here: they are generated from the contracts as Great Expectations
expectations (:mod:`pipelines.quality.suites`) and run by the validity stage, which takes their failing
rows from GX's own result.

Adding a rule: its catalog entry, then its definition in the stage's module (``pipelines/intake/syntax.py``
for S, ``sql_rules.py`` for V, ``quality_rules.py`` for Q, ``macro_rules.py`` for M), e.g.::

    @sql_rule("V099")
    def v099() -> str:
        return f\"\"\"select submission_id, 'loans' as filing_type, _row, {rk("loans")} as record_key,
            {fields("origination_date", "maturity_date")} as fields,
            {msg("maturity_date ", "=maturity_date", " is before origination_date ", "=origination_date", ".")}
                as message
        from {src("loans")} where maturity_date < origination_date\"\"\"

(the worked example of ``docs/dev-interfaces.md``). ``tests/unit/test_rule_registry.py`` runs that example
and checks that every catalog rule has exactly one definition (or a generated expectation) and every
definition a catalog entry.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from pipelines.contracts import load_contracts
from pipelines.quality.catalog import Rule as CatalogEntry
from pipelines.quality.catalog import load_catalog

ENT_TYPES = ("PAY", "P2P", "CF", "WM")
SUBS = "_rule_subs"  # the context table: the submissions a rule is evaluated on
ACCEPTED = "('ACCEPTED', 'ACCEPTED_WITH_WARNINGS')"
CUSTOMER = "like 'CUSTOMER\\_%' escape '\\'"  # account_class of customer accounts
BANK_CONFIRMED = "('RESERVE_CENTRAL', 'RESERVE_BANK', 'CUSTODY_SUMMARY', 'OWN_FUNDS')"

# the modules holding the SQL definitions, by stage (imported on first use: they import this module)
DEFINITION_MODULES = {
    "S": "pipelines.intake.syntax",
    "V": "pipelines.quality.sql_rules",
    "Q": "pipelines.quality.quality_rules",
    "M": "pipelines.quality.macro_rules",
}


@dataclass(frozen=True)
class SqlDefinition:
    """How a rule is evaluated: its query and its scope."""

    rule_id: str
    sql: Callable[[], str]  # built when run (it may read the contracts and the thresholds seed)
    requires: tuple[str, ...] = ()  # files read: the rule applies when the enterprise type owes them all
    ent_types: tuple[str, ...] = ENT_TYPES
    needs_previous: bool = False  # SKIPPED without the previous period's current version
    needs_history: bool = False  # SKIPPED with fewer than min_history earlier periods
    applies_when: str = "true"  # SQL condition on the context columns (e.g. a resubmission)


@dataclass(frozen=True)
class CheckDefinition:
    """How an S rule is checked: a function over the delivery's bytes returning the rule's problems
    (``pipelines.intake.package.Problem``, stamped with the rule id), and the read failures (kinds) the
    rule claims. At least one of the two."""

    rule_id: str
    check: Callable[..., list[Any]] | None = None
    claims: tuple[str, ...] = ()


Definition = SqlDefinition | CheckDefinition


@dataclass(frozen=True)
class Rule:
    """A catalog entry and its definition."""

    entry: CatalogEntry
    definition: Definition

    @property
    def sql_definition(self) -> SqlDefinition:
        if not isinstance(self.definition, SqlDefinition):
            raise TypeError(f"rule {self.rule_id} is checked by a function, not SQL")
        return self.definition

    @property
    def rule_id(self) -> str:
        return self.entry.rule_id

    @property
    def stage(self) -> str:
        return self.entry.stage

    @property
    def severity(self) -> str:
        return self.entry.severity

    @property
    def shadow(self) -> bool:
        return self.entry.shadow

    @property
    def counts_as_error(self) -> bool:
        """A finding of this rule counts against the submission's status (live error rule)."""
        return self.entry.severity == "error" and not self.entry.shadow

    @property
    def filing_types(self) -> tuple[str, ...]:
        return self.entry.filing_types

    @property
    def reads(self) -> tuple[str, ...]:
        return self.sql_definition.requires or self.entry.filing_types

    @property
    def needs_previous(self) -> bool:
        return self.sql_definition.needs_previous

    @property
    def needs_history(self) -> bool:
        return self.sql_definition.needs_history

    def applies(self, ent_type: str, owed: frozenset[str]) -> bool:
        """Whether the rule is evaluated for a submission of ``ent_type`` owing the files ``owed``."""
        return ent_type in self.sql_definition.ent_types and set(self.reads) <= owed

    def sql(self) -> str:
        return self.sql_definition.sql()


_DEFINITIONS: dict[str, Definition] = {}


def sql_rule(
    rule_id: str,
    sql: str | Callable[[], str] | None = None,
    *,
    requires: tuple[str, ...] = (),
    ent_types: tuple[str, ...] = ENT_TYPES,
    needs_previous: bool = False,
    needs_history: bool = False,
    applies_when: str = "true",
):
    """Register the SQL definition of ``rule_id``: ``sql_rule(id, text_or_function, ...)`` or, as a
    decorator, ``@sql_rule(id, ...)`` on a function returning the query."""

    def register(fn: str | Callable[[], str]):
        if rule_id in _DEFINITIONS:
            raise ValueError(f"rule {rule_id} has two definitions")
        build = fn if callable(fn) else (lambda: fn)
        _DEFINITIONS[rule_id] = SqlDefinition(
            rule_id, build, requires, ent_types, needs_previous, needs_history, applies_when
        )
        return fn

    return register(sql) if sql is not None else register


def syntax_rule(
    rule_id: str, *, claims: tuple[str, ...] = ()
) -> Callable[[Callable[..., list[Any]] | None], Callable[..., list[Any]] | None]:
    """Register the check of S rule ``rule_id``: as a decorator on the function returning its problems,
    or ``syntax_rule(id, claims=...)(None)`` for a rule found only as read failures it claims."""

    def register(fn: Callable[..., list[Any]] | None) -> Callable[..., list[Any]] | None:
        if rule_id in _DEFINITIONS:
            raise ValueError(f"rule {rule_id} has two definitions")
        if fn is None and not claims:
            raise ValueError(f"rule {rule_id}: a check needs a function or the failures it claims")
        claimed = {k for d in _DEFINITIONS.values() if isinstance(d, CheckDefinition) for k in d.claims}
        if claimed & set(claims):
            raise ValueError(f"rule {rule_id}: failure(s) {sorted(claimed & set(claims))} already claimed")
        _DEFINITIONS[rule_id] = CheckDefinition(rule_id, fn, claims)
        return fn

    return register


def definitions() -> dict[str, Definition]:
    """Every registered definition, SQL and checks (imports the definition modules)."""
    for module in DEFINITION_MODULES.values():
        importlib.import_module(module)
    return dict(_DEFINITIONS)


@cache
def sql_rules(stage: str) -> tuple[Rule, ...]:
    """The SQL rules of a stage, in rule id order: catalog entry + definition (a KeyError when a
    definition has no catalog entry)."""
    catalog = load_catalog()
    out = []
    for rule_id, d in sorted(definitions().items()):
        entry = catalog[rule_id]
        if entry.stage == stage and isinstance(d, SqlDefinition):
            out.append(Rule(entry, d))
    return tuple(out)


@cache
def syntax_rules() -> tuple[Rule, ...]:
    """The S rules in rule id order: catalog entry + check (a KeyError when a check has no catalog entry)."""
    catalog = load_catalog()
    checks = [d for d in definitions().values() if isinstance(d, CheckDefinition)]
    return tuple(Rule(catalog[d.rule_id], d) for d in sorted(checks, key=lambda d: d.rule_id))


@cache
def claimed_by() -> dict[str, str]:
    """Read failure kind -> the S rule that claims it."""
    return {
        kind: r.rule_id
        for r in syntax_rules()
        if isinstance(r.definition, CheckDefinition)
        for kind in r.definition.claims
    }


def rule(rule_id: str) -> Rule:
    entry = load_catalog()[rule_id]
    return Rule(entry, definitions()[rule_id])


# ------------------------------------------------------------------------------------------------------
# pieces of rule SQL


def cur(ft: str) -> str:
    """The raw rows of one filing type, for the submissions being checked."""
    return f"(select * from raw.{ft} where submission_id in (select submission_id from {SUBS}))"


src = cur  # the name the V rules use


def prev(ft: str) -> str:
    """The raw rows of the previous period's current version, tagged with the checked submission (cur_sid)."""
    return f"(select p.*, s.submission_id as cur_sid from raw.{ft} p join {SUBS} s on p.submission_id = s.prev_sid)"


def rk(ft: str, alias: str = "") -> str:
    """SQL for the record key of a row of ``ft``: key values joined by '|', dates as YYYY-MM-DD."""
    contract = load_contracts()[ft]
    p = f"{alias}." if alias else ""
    parts = []
    for k in contract.key:
        if contract.column(k).type == "date":
            parts.append(f"coalesce(strftime({p}{k}, '%Y-%m-%d'), '')")
        else:
            parts.append(f"coalesce(cast({p}{k} as varchar), '')")
    return " || '|' || ".join(parts)


def fields(*cols: str, alias: str = "") -> str:
    """SQL list of {field, value} structs; a column may be given as 'name=expr'."""
    items = []
    for c in cols:
        name, _, expr = c.partition("=")
        expr = expr or (f"{alias}.{name}" if alias else name)
        items.append("{'field': '" + name + "', 'value': cast(" + expr + " as varchar)}")
    return "[" + ", ".join(items) + "]"


def msg(*parts: str) -> str:
    """SQL concat() of literal text (quoted here) and SQL expressions (given as '=expr')."""
    out = []
    for p in parts:
        if p.startswith("="):
            out.append(f"coalesce(cast({p[1:]} as varchar), '(empty)')")
        else:
            out.append("'" + p.replace("'", "''") + "'")
    return "concat(" + ", ".join(out) + ")"
