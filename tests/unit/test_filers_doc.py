"""docs/filers.md is generated from the contracts, the manifest schema, the seeds and the catalog."""

from pipelines.contracts import load_contracts
from pipelines.quality.catalog import load_catalog
from pipelines.reports.filers_guide import COMMAND, DOC, render


def test_filers_guide_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), f"run: {COMMAND}"


def test_guide_covers_every_column_and_every_s_and_v_fix() -> None:
    text = render()
    for ft, contract in load_contracts().items():
        assert f"### {ft}\n" in text
        for col in contract.columns:
            assert f"| `{col.name}` | {col.type} |" in text, (ft, col.name)
    for rid, rule in load_catalog().items():
        if rule.stage in ("S", "V"):
            assert f"| {rid} | {rule.severity} |" in text and rule.what_to_fix.replace("|", "\\|") in text
    assert "| `liquidity` | ✓ |  |  | ✓ |" in text  # owed by PAY and WM only (seed)
    assert "suptech acknowledge" in text and "`stage, rule_id, rule_title, severity" in text
