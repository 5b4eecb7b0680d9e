"""The rule catalog as a dbt seed (dbt_project/seeds/rule_catalog.csv), generated: the FQ indicators read
which rules feed them (fq_id, x_rule) and their severity from it. tests/unit/test_catalog_qm.py checks it
is current.

    .venv/bin/python -m pipelines.quality.catalog.seed
"""

from __future__ import annotations

import csv
import io

from pipelines.quality.catalog import load_catalog
from pipelines.reference import seed_path

SEED = seed_path("rule_catalog.csv")
COLUMNS = ("rule_id", "stage", "severity", "x_rule", "fq_id", "shadow", "title")


def render() -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in sorted(load_catalog().values(), key=lambda r: r.rule_id):
        w.writerow(
            [r.rule_id, r.stage, r.severity, r.x_rule or "", r.fq_id or "", str(r.shadow).lower(), r.title]
        )
    return out.getvalue()


def main() -> None:
    SEED.write_text(render(), encoding="utf-8")
    print(f"wrote {SEED}")


if __name__ == "__main__":
    main()
