"""docs/indicators.md is generated from the indicator seed, the models' meta and the thresholds seed."""

from pipelines.docs.indicators_doc import DOC, catalog, documented, render, thresholds


def test_published_indicator_catalog_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), "run: python -m pipelines.docs.indicators_doc"


def test_every_indicator_of_the_seed_has_a_model() -> None:
    models = documented()
    missing = [row["indicator_id"] for row in catalog() if row["indicator_id"] not in models]
    assert missing == [], f"indicators without a model documenting them (meta.indicators): {missing}"


def test_models_document_only_known_indicators_with_all_fields() -> None:
    known = {row["indicator_id"] for row in catalog()}
    for indicator_id, docs in documented().items():
        assert indicator_id in known, f"{indicator_id} ({docs[0].model}) is not in seeds/indicators.csv"
        for doc in docs:
            assert doc.name and doc.formula and doc.threshold and doc.source, doc


def test_every_threshold_row_is_published_under_its_indicator() -> None:
    text = render()
    for row in thresholds():
        if row["indicator_id"] == "*":
            continue
        section = text.split(f"### {row['indicator_id']} ", 1)[1].split("\n### ", 1)[0]
        assert f"| {row['param']} | {row['ent_type']} |" in section, row
