"""Code and catalog agree on the syntactical (S) rules: every S id the intake emits is in the catalog, and
every catalog S rule is emitted somewhere in the intake."""

import re
from pathlib import Path

from pipelines.quality.catalog import load_catalog

INTAKE = Path(__file__).resolve().parents[2] / "pipelines" / "intake"


def test_intake_emits_exactly_the_catalog_s_rules() -> None:
    used = set()
    for path in INTAKE.glob("*.py"):
        used |= set(re.findall(r"[\"'](S[0-9]{3})[\"']", path.read_text(encoding="utf-8")))
    catalog = {r for r, rule in load_catalog().items() if rule.stage == "S"}
    assert used == catalog, {"in code only": used - catalog, "in catalog only": catalog - used}
