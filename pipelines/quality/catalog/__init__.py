"""The rule catalog: rules are data. One YAML file per stage in this folder; together they are the catalog
published with the product (docs/rules.md) and read by every check that emits findings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

CATALOG_DIR = Path(__file__).parent
STAGE_FILES = ("syntactical.yml", "validity.yml", "quality.yml", "macro.yml")
STAGES = ("S", "V", "Q", "M")
SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class Rule:
    rule_id: str
    stage: str
    severity: str
    filing_types: tuple[str, ...]
    title: str
    description: str
    source: str = ""
    x_rule: str | None = None
    fq_id: str | None = None
    since: str = "1.0"
    shadow: bool = False
    fix: str = ""  # optional: what the filer should do about a finding (edit reports, filer's guide)

    @property
    def what_to_fix(self) -> str:
        return self.fix or self.description


@cache
def load_catalog() -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for name in STAGE_FILES:
        path = CATALOG_DIR / name
        if not path.exists():
            continue
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            entry = dict(entry)
            entry["filing_types"] = tuple(entry.get("filing_types", ()))
            rule = Rule(**entry)
            if rule.rule_id in rules:
                raise ValueError(f"rule {rule.rule_id} is listed twice in the catalog")
            if rule.stage not in STAGES or not rule.rule_id.startswith(rule.stage):
                raise ValueError(f"rule {rule.rule_id} has stage {rule.stage!r}")
            if rule.severity not in SEVERITIES:
                raise ValueError(f"rule {rule.rule_id} has severity {rule.severity!r}")
            rules[rule.rule_id] = rule
    return rules


def rule(rule_id: str) -> Rule:
    return load_catalog()[rule_id]
