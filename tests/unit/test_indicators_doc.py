"""The indicator registry is derived from the models' meta.indicators: seeds/indicators.csv, the mart list
indicator_marts() and docs/indicators.md are generated (python -m pipelines.docs.indicators_doc) and must
be current; every indicator is documented completely, beside its SQL, with a thresholds row."""

import re
from collections import Counter

from pipelines.docs.indicators_doc import (
    DBT,
    ENT_TYPES,
    FAMILIES,
    FREQUENCIES,
    META_KEYS,
    catalog,
    indicator_marts,
    indicator_meta,
    indicators,
    outputs,
    render,
    thresholds,
)

MACRO_DEF = re.compile(r"{%-?\s*macro\s+indicator_marts\s*\(")


def test_generated_files_are_current() -> None:
    stale = [
        str(path.relative_to(DBT.parent))
        for path, text in outputs().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    assert stale == [], f"stale: {stale}; run: python -m pipelines.docs.indicators_doc"


def test_every_meta_entry_is_complete() -> None:
    entries = indicator_meta()
    assert len(entries) >= 49
    for model, path, entry in entries:
        missing = [k for k in META_KEYS if not entry.get(k)]
        assert missing == [], f"{model} ({path}): meta.indicators entry {entry.get('id')} lacks {missing}"
        assert set(entry) <= set(META_KEYS), f"{model}: unknown keys {set(entry) - set(META_KEYS)}"
        assert re.fullmatch(r"[A-Z]+-\d{3}", entry["id"]) and entry["id"].split("-")[0] in FAMILIES, entry
        assert entry["frequency"] in FREQUENCIES, entry
        assert isinstance(entry["ent_types"], list) and set(entry["ent_types"]) <= set(ENT_TYPES), entry


def test_each_indicator_is_documented_once() -> None:
    twice = [i for i, n in Counter(d.indicator_id for d in indicators()).items() if n > 1]
    assert twice == []


def test_yaml_sits_beside_its_sql() -> None:
    for d in indicators():
        sql = (DBT / d.path).parent / f"{d.model}.sql"
        assert sql.exists(), f"{d.model} is documented in {d.path}, not beside its SQL"
        assert "indicator_rows(" in sql.read_text(encoding="utf-8"), (
            f"{d.model} does not end in indicator_rows()"
        )


ROW_MACROS = re.compile(r"\b(indicator_row|count_metric|fq_findings_row)\(")


def test_marts_write_their_rows_with_the_row_macros() -> None:
    """The long-format row is written by indicator_row() / count_metric() (fq_findings_row() wraps it)."""
    by_hand = []
    for model in indicator_marts():
        sql = next((DBT / "models" / "marts").rglob(f"{model}.sql")).read_text(encoding="utf-8")
        if not ROW_MACROS.search(sql):
            by_hand.append(model)
    assert by_hand == []


def test_every_indicator_has_a_thresholds_row() -> None:
    with_params = {r["indicator_id"] for r in thresholds()}
    assert [r["indicator_id"] for r in catalog() if r["indicator_id"] not in with_params] == []


def test_the_mart_list_is_only_generated() -> None:
    """No hand list: indicator_marts() is defined once, in the generated file, and lists every documented mart."""
    defining = [
        p.relative_to(DBT).as_posix()
        for p in (DBT / "macros").rglob("*.sql")
        if MACRO_DEF.search(p.read_text(encoding="utf-8"))
    ]
    assert defining == ["macros/indicator_marts.sql"]
    assert sorted(indicator_marts()) == sorted({d.model for d in indicators()})
    for model in ("fct_indicator_values", "fct_alerts"):
        text = (DBT / "models" / "marts" / "supervision" / f"{model}.sql").read_text(encoding="utf-8")
        assert "check_indicator_marts()" in text and "indicator_marts()" in text


def test_every_threshold_row_is_published_under_its_indicator() -> None:
    text = render()
    for row in thresholds():
        if row["indicator_id"] == "*":
            continue
        section = text.split(f"### {row['indicator_id']} ", 1)[1].split("\n### ", 1)[0]
        assert f"| {row['param']} | {row['ent_type']} |" in section, row
