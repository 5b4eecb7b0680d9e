"""docs/rules.md is generated from the rule catalog and must be current."""

from pipelines.quality.catalog.render import DOC, render


def test_published_rule_catalog_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), "run: python -m pipelines.quality.catalog.render"


def test_every_rule_is_published() -> None:
    from pipelines.quality.catalog import load_catalog

    text = DOC.read_text(encoding="utf-8")
    for rule_id in load_catalog():
        assert f"| {rule_id} " in text
