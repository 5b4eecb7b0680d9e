"""`suptech evaluate` verdicts on hand-made evaluations (targets.md D1)."""

from __future__ import annotations

from pipelines.commands.evaluate import summarise
from pipelines.evaluate.detection import ClassScore, Evaluation, IdScore

TRUTH = [
    {"case_id": "c1", "class": "macro.bank_confirmation", "expected": ["X-03", "RES-003"]},
    {"case_id": "c2", "class": "quality.benford", "expected": ["FQ-005"]},
]


def _evaluation(caught_benford: int, m003_flags: int, warned: list[str]) -> Evaluation:
    return Evaluation(
        classes={
            "macro.bank_confirmation": ClassScore("macro.bank_confirmation", cases=10, caught=10),
            "quality.benford": ClassScore("quality.benford", cases=10, caught=caught_benford),
        },
        ids={
            "M003": IdScore("M003", flags=m003_flags, true_flags=10),
            "RES-003": IdScore("RES-003", flags=10, true_flags=10),
            "Q001": IdScore("Q001", flags=10, true_flags=10),
        },
        clean_submissions=200,
        clean_with_errors=[],
        clean_with_warnings=warned,
    )


def test_targets_met():
    data = summarise(_evaluation(10, 10, ["a", "b"]), TRUTH)  # 2 of 200 = 1.0% warned: at the bound
    assert data["failures"] == []
    assert data["classes"]["macro.bank_confirmation"]["precision"] == 1.0  # (10 + 10) / (10 + 10)
    assert data["clean"]["warning_share"] == 0.01


def test_targets_missed():
    data = summarise(_evaluation(9, 13, ["a", "b", "c"]), TRUTH)
    assert data["failures"] == [
        "macro.bank_confirmation: precision 0.870 < 0.9",  # 20 true of 23 flags
        "quality.benford: recall 0.900 < 0.95",
        "clean run: warnings on 1.5% of clean submissions > 1%",
    ]
