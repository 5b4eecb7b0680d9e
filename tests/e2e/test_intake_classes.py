"""Issue 3 classes on the shared tiny cycle: every syntax, validity and timeliness case is caught; each broken
v1 is final (MALFORMED or REJECTED) and its corrected v2 is current; a missing filing has no submission."""

from __future__ import annotations

import pytest

from pipelines.evaluate.detection import evaluate, read_truth
from pipelines.synth.inject import REGISTRY
from pipelines.warehouse.db import connect_reader

pytestmark = pytest.mark.e2e

FAMILIES = ("syntax.", "validity.", "timeliness.")
BROKEN_STATUS = {"syntax": "MALFORMED", "validity": "REJECTED"}


@pytest.fixture(scope="module")
def cycle(tiny_cycle):
    # the ground truth names filed record keys: evaluate on the auditor snapshot (filed identifiers)
    con = connect_reader(tiny_cycle.home, kind="auditor")
    yield read_truth(tiny_cycle.truth_file), con
    con.close()


def test_every_syntax_validity_timeliness_class_is_injected_and_caught(cycle) -> None:
    truth, con = cycle
    classes = {c for c in REGISTRY if c.startswith(FAMILIES)}
    assert {c["class"] for c in truth} >= classes
    result = evaluate(con, truth)
    for cls in sorted(classes):
        assert result.classes[cls].recall == 1.0, (cls, result.classes[cls].missed)
    for flag_id, score in result.ids.items():
        if flag_id.startswith(("S0", "V0")):  # syntax and validity rules flag injected cases only
            assert score.true_flags == score.flags, (flag_id, score)


def test_broken_v1_is_final_and_the_correction_current(cycle) -> None:
    truth, con = cycle
    for case in truth:
        family = case["class"].split(".")[0]
        if family not in BROKEN_STATUS:
            continue
        sid = case["submission_id"]
        assert con.execute(
            "select status from intake.submissions where submission_id = ?", [sid]
        ).fetchall() == [(BROKEN_STATUS[family],)], sid
        current = con.execute(
            "select submission_id, supersedes from intake.submissions where enterprise_id = ? and period = ? "
            "and status in ('ACCEPTED', 'ACCEPTED_WITH_WARNINGS')",
            [case["enterprise_id"], case["period"]],
        ).fetchall()
        assert current == [(sid.replace("-v1", "-v2"), sid)], (sid, current)


def test_missing_filing_has_no_submission(cycle) -> None:
    truth, con = cycle
    missing = [c for c in truth if c["class"] == "timeliness.missing"]
    assert missing
    for case in missing:
        assert con.execute(
            "select count(*) from intake.submissions where enterprise_id = ? and period = ?",
            [case["enterprise_id"], case["period"]],
        ).fetchall() == [(0,)]
