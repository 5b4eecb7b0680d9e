"""Render the rule catalog as docs/rules.md (`python -m pipelines.quality.catalog.render`).

The published catalog is generated, never hand-edited; a test fails when docs/rules.md is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipelines.quality.catalog import STAGES, load_catalog

DOC = Path(__file__).resolve().parents[3] / "docs" / "rules.md"
STAGE_NAMES = {"S": "Syntactical", "V": "Validity", "Q": "Quality", "M": "Macro"}
STAGE_EFFECT = {
    "S": "any error makes the package MALFORMED: nothing is loaded into the curated warehouse",
    "V": "any error makes the submission REJECTED: kept, never used by the indicators",
    "Q": "warnings make the submission ACCEPTED_WITH_WARNINGS; each must be acknowledged",
    "M": "errors and warnings across submissions and periods, as each rule says",
}


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ").strip()


def render() -> str:
    rules = load_catalog()
    lines = [
        "# Rule catalog",
        "",
        "Generated from `pipelines/quality/catalog/*.yml` by `python -m pipelines.quality.catalog.render`;",
        "do not edit by hand. Every check the warehouse runs is listed here with its id, stage and severity,",
        "so filers can check their own files before they submit (see `../shared/spec/rules.md`).",
        "",
        "For engineers: each rule is this catalog entry plus one definition in the rule registry",
        "(`pipelines/quality/rules.py`): a registered check for S rules (`pipelines/intake/syntax.py`), a",
        "generated Great Expectations expectation or a registered SQL query otherwise. How to add one:",
        "`docs/dev-interfaces.md` (Adding an S rule, Adding a V rule).",
        "",
    ]
    for stage in STAGES:
        stage_rules = [r for r in rules.values() if r.stage == stage]
        if not stage_rules:
            continue
        lines += [
            f"## {STAGE_NAMES[stage]} rules ({stage}###)",
            "",
            f"On failure: {STAGE_EFFECT[stage]}.",
            "",
        ]
        lines += [
            "| id | severity | filing types | X-rule | FQ | title | what is checked | source | since |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in stage_rules:
            shadow = " (shadow)" if r.shadow else ""
            lines.append(
                f"| {r.rule_id}{shadow} | {r.severity} | {_cell(', '.join(r.filing_types))} | {r.x_rule or ''} "
                f"| {r.fq_id or ''} | {_cell(r.title)} | {_cell(r.description)} | {_cell(r.source)} | {r.since} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC}", file=sys.stderr)


if __name__ == "__main__":
    main()
