"""The indicator registry, derived from the models' `meta.indicators` (`python -m pipelines.docs.indicators_doc`).

One source: the YAML beside each indicator mart's SQL documents its indicators under `config.meta.indicators`
(id, name, frequency, ent_types, formula, threshold, source). From it this module writes, and
tests/unit/test_indicators_doc.py fails when a written file is stale:

- `dbt_project/seeds/indicators.csv`: the indicator catalog (id, family, name, frequency, ent_types) that
  fct_alerts joins for names and families;
- `dbt_project/macros/indicator_marts.sql`: `indicator_marts()`, the marts fct_indicator_values and
  fct_alerts union (every model whose YAML documents an indicator; the macro `check_indicator_marts()`
  compares it with the dbt graph on every run);
- `docs/indicators.md`: the catalog with the parameters of the seed `thresholds.csv`.

Families and their order are FAMILIES below; within a family indicators sort by number.
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipelines.reference import read_seed, seed_path

ROOT = Path(__file__).resolve().parents[2]
DBT = ROOT / "dbt_project"
DOC = ROOT / "docs" / "indicators.md"
SEED = seed_path("indicators.csv")
MARTS_MACRO = DBT / "macros" / "indicator_marts.sql"
FAMILIES = {
    "RES": "Customer reserve funds",
    "SEG": "Separation of platform and customer funds",
    "FLOW": "Capital flow direction and velocity",
    "CPL": "Complaints and consumer protection",
    "CRD": "Loan book and credit",
    "LIQ": "Liquidity",
    "AML": "Money-laundering typologies",
    "OPS": "Technical and operational risk",
    "FQ": "Filing quality",
}
FREQUENCIES = ("daily", "monthly")
ENT_TYPES = ("PAY", "P2P", "CF", "WM", "*")
META_KEYS = ("id", "name", "frequency", "ent_types", "formula", "threshold", "source")
SEED_COLUMNS = ("indicator_id", "family", "name", "frequency", "ent_types")


@dataclass(frozen=True)
class Documented:
    """One indicator as a model documents it."""

    indicator_id: str
    model: str
    path: str
    name: str
    frequency: str
    ent_types: tuple[str, ...]
    formula: str
    threshold: str
    source: str

    @property
    def family(self) -> str:
        return self.indicator_id.rsplit("-", 1)[0]

    def sort_key(self) -> tuple[int, int]:
        family, number = self.indicator_id.rsplit("-", 1)
        return (list(FAMILIES).index(family) if family in FAMILIES else len(FAMILIES), int(number))


def indicator_meta(dbt: Path = DBT) -> list[tuple[str, str, dict]]:
    """(model, YAML path relative to dbt_project, entry) for every `meta.indicators` entry, as written."""
    out: list[tuple[str, str, dict]] = []
    for path in sorted((dbt / "models").rglob("*.yml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in spec.get("models") or []:
            meta = (model.get("config") or {}).get("meta") or model.get("meta") or {}
            for entry in meta.get("indicators") or []:
                out.append((model["name"], str(path.relative_to(dbt)), entry))
    return out


def indicators(dbt: Path = DBT) -> list[Documented]:
    """Every documented indicator, in catalog order (family, then number)."""
    found = [
        Documented(
            indicator_id=str(entry["id"]),
            model=model,
            path=path,
            name=str(entry.get("name", "")),
            frequency=str(entry.get("frequency", "")),
            ent_types=tuple(str(t) for t in entry.get("ent_types") or ()),
            formula=str(entry.get("formula", "")),
            threshold=str(entry.get("threshold", "")),
            source=str(entry.get("source", "")),
        )
        for model, path, entry in indicator_meta(dbt)
    ]
    return sorted(found, key=Documented.sort_key)


def catalog(dbt: Path = DBT) -> list[dict[str, str]]:
    """The indicator catalog (the rows of seeds/indicators.csv), in its order."""
    return [
        {
            "indicator_id": d.indicator_id,
            "family": d.family,
            "name": d.name,
            "frequency": d.frequency,
            "ent_types": " ".join(d.ent_types),
        }
        for d in indicators(dbt)
    ]


def indicator_marts(dbt: Path = DBT) -> list[str]:
    """The indicator marts, ordered by their first indicator in catalog order."""
    marts: list[str] = []
    for d in indicators(dbt):
        if d.model not in marts:
            marts.append(d.model)
    return marts


def thresholds(dbt: Path = DBT) -> list[dict[str, str]]:
    if dbt == DBT:
        return read_seed("thresholds.csv")
    with open(dbt / "seeds" / "thresholds.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def render_seed(dbt: Path = DBT) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=SEED_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(catalog(dbt))
    return buf.getvalue()


def render_marts_macro(dbt: Path = DBT) -> str:
    items = "".join(f"        '{m}',\n" for m in indicator_marts(dbt))
    return (
        "{#- Generated by `python -m pipelines.docs.indicators_doc` from the models' meta.indicators: do not\n"
        "    edit. The indicator marts fct_indicator_values and fct_alerts union: every model whose YAML\n"
        "    documents an indicator. check_indicator_marts() (macros/indicators.sql) compares it with the dbt\n"
        "    graph on every run. -#}\n"
        "{% macro indicator_marts() -%}\n"
        "    {{ return([\n"
        f"{items}"
        "    ]) }}\n"
        "{%- endmacro %}\n"
    )


def documented(dbt: Path = DBT) -> dict[str, list[Documented]]:
    """Indicator id -> the models whose YAML documents it (config.meta.indicators, or meta.indicators)."""
    found: dict[str, list[Documented]] = {}
    for d in indicators(dbt):
        found.setdefault(d.indicator_id, []).append(d)
    return found


def _cell(text: str | None) -> str:
    return " ".join((text or "").replace("|", "\\|").split())


def _threshold_rows(rows: list[dict[str, str]]) -> list[str]:
    out = [
        "| parameter | types | valid | value | unit | comparison | severity | source |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        valid = (
            f"{r['valid_from']} – {r['valid_to']}"
            if r["valid_to"] != "9999-12-31"
            else f"from {r['valid_from']}"
        )
        out.append(
            f"| {r['param']} | {r['ent_type']} | {valid} | {r['value']} | {_cell(r['unit'])} "
            f"| {_cell(r['comparison'])} | {r['severity']} | {_cell(r['source'])} |"
        )
    return out


def render(dbt: Path = DBT) -> str:
    models = documented(dbt)
    params = thresholds(dbt)
    lines = [
        "# Indicator catalog",
        "",
        "Generated by `python -m pipelines.docs.indicators_doc` from the models' `meta.indicators` (the dbt YAML",
        "beside each indicator mart's SQL) and the seed `dbt_project/seeds/thresholds.csv`; do not edit by hand.",
        "The same meta writes the seed `dbt_project/seeds/indicators.csv` and the mart list `indicator_marts()`.",
        "Values are in `marts.fct_indicator_values` (long format: one row per enterprise, period, indicator,",
        "metric, day and breakdown) and alerts in `marts.fct_alerts`; each model's own columns",
        "and metric names are in its YAML and in the dbt docs (`reports/dbt_docs/static_index.html`).",
        "Thresholds marked [default] are warehouse defaults to tune, not regulations; `valid` bounds are",
        "the validity window (end exclusive).",
        "",
        "## Working days",
        "",
        "Indicators judged on working days (RES-002, RES-003's next working day, AML-001's reporting deadline)",
        "use the business calendar: the seed `dbt_project/seeds/business_calendar.csv` (day, is_working_day,",
        "note) holds every day from 2015-01-01 to 2026-12-31 with mainland China's public holidays and the",
        "make-up working weekends (调休) of the State Council's annual holiday notices, built from the",
        "`chinesecalendar` package by `python -m pipelines.business_calendar` (run by `make docs`). The dbt",
        "macro `is_working_day` and the synthetic generator (`pipelines/business_calendar.py`) read the same",
        "seed; a day outside its range is a working day from Monday to Friday. Extend the seed (a new",
        "`chinesecalendar` release and `LAST_DAY`) when the next year's notice is published.",
        "",
        "## Shared screen parameters",
        "",
        "Defaults of every peer and history screen (indicator `*`), overridden per indicator below.",
        "",
        *_threshold_rows([r for r in params if r["indicator_id"] == "*"]),
        "",
    ]
    family = None
    for entry in catalog(dbt):
        fam = entry["family"]
        if fam != family:
            family = fam
            lines += [f"## {fam} — {FAMILIES.get(fam, fam)}", ""]
        iid = entry["indicator_id"]
        docs = models.get(iid, [])
        lines += [f"### {iid} {entry['name']}", ""]
        lines.append(f"Frequency: {entry['frequency']}; enterprise types: {entry['ent_types']}.")
        if docs:
            d = docs[0]
            model_list = ", ".join(f"`{x.model}` ({x.path})" for x in docs)
            lines += [
                f"Model: {model_list}.",
                "",
                f"- Formula: {_cell(d.formula)}",
                f"- Alert: {_cell(d.threshold)}",
                f"- Source: {_cell(d.source)}",
                "",
            ]
        else:
            lines += ["", "**No model computes this indicator yet.**", ""]
        own = [r for r in params if r["indicator_id"] == iid]
        if own:
            lines += ["Parameters (seed `thresholds`):", "", *_threshold_rows(own), ""]
    return "\n".join(lines)


def outputs(root: Path = ROOT) -> dict[Path, str]:
    """Every file this module writes and its current content, for the checkout at `root`."""
    dbt = root / "dbt_project"
    return {
        dbt / "seeds" / "indicators.csv": render_seed(dbt),
        dbt / "macros" / "indicator_marts.sql": render_marts_macro(dbt),
        root / "docs" / "indicators.md": render(dbt),
    }


def main(root: Path = ROOT) -> None:
    for path, text in outputs(root).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
