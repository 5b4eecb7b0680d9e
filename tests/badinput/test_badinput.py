"""R1: every bad-input case in one landing area through one cycle (intake, validity, edit reports).

Per case: the status, the rule ids, an actionable reason, every delivered byte in the archive; and a valid
package dropped alongside is accepted unharmed. The Dagster landing sensor evaluates over the same landing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines import definitions
from pipelines.cycle import run_cycle
from pipelines.home import Home
from tests.badinput.catalog import CASES, FORMULA, SQL_INJECTION, BadCase
from tests.support import drop_examples

CLOCK = datetime(2026, 11, 21, tzinfo=UTC)
MAX_REASON = 600  # a reason is a sentence, not a dump of the input


def ent_of(i: int) -> str:
    return f"PAY{2000 + i}"


def snapshot(folder: Path) -> dict[str, tuple[str, bytes | str]]:
    """Every entry of a package: file bytes, or a link's target (links are never followed)."""
    out = {}
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            p = Path(root) / name
            rel = str(p.relative_to(folder))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_file():
                out[rel] = ("file", p.read_bytes())
    return out


@dataclass
class Run:
    home: Home
    folders: dict[str, Path]
    delivered: dict[str, dict]
    outcomes: dict[str, object]
    first_run: set[str]
    sensor_result: object


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    home = Home.resolve(tmp_path_factory.mktemp("badinput") / "home").ensure()
    for i, case in enumerate(CASES):
        if case.before:
            case.before(home.landing, ent_of(i))
    first = run_cycle(home, as_of=CLOCK, backfill=True, build_marts=False)
    first_run = {o.submission_id for o in first.intake}

    folders = {case.name: case.build(home.landing, ent_of(i)) for i, case in enumerate(CASES)}
    drop_examples(home.landing)  # the valid packages alongside
    delivered = {name: snapshot(folder) for name, folder in folders.items()}
    resource = definitions.SupTechHome(home=str(home.root))
    with dg.build_sensor_context(resources={"suptech": resource}) as ctx:
        sensor_result = definitions.landing_sensor(ctx)
    report = run_cycle(home, as_of=CLOCK, backfill=True, build_marts=False)
    outcomes = {o.submission_id: o for o in report.intake}
    return Run(home, folders, delivered, outcomes, first_run, sensor_result)


def query(home: Home, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_catalog_is_large_and_names_are_unique() -> None:
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(run: Run, case: BadCase) -> None:
    i = CASES.index(case)
    ent = ent_of(i)
    folder = run.folders[case.name]
    sid = folder.name
    if case.status is None:  # incomplete: left where it is, untouched, unrecorded
        assert snapshot(folder) == run.delivered[case.name]
        assert sid not in run.outcomes
        assert query(run.home, "select count(*) from intake.submissions where submission_id = ?", [sid]) == [
            (0,)
        ]
        return
    if sid not in run.outcomes:  # refused for its identity: under an id of its own, claiming none
        sid = f"{folder.parent.name}~{folder.name}~1"
        assert query(
            run.home, "select count(*) from intake.submissions where submission_id = ?", [folder.name]
        ) == [(0,)] or (folder.name in run.first_run)
    outcome = run.outcomes[sid]
    if sid in run.first_run:  # a re-delivery: its own outcome; the submission keeps its status
        status = outcome.status
    else:
        (status,) = query(run.home, "select status from intake.submissions where submission_id = ?", [sid])[0]
    assert status == case.status, outcome.reason

    attempt = query(run.home, "select max(delivery_n) from intake.deliveries where submission_id = ?", [sid])[
        0
    ][0]
    found = query(
        run.home,
        "select rule_id, stage, message from quality.findings where submission_id = ? and attempt = ?",
        [sid, attempt],
    )
    rules = {r for r, _, _ in found}
    stages = {s for _, s, _ in found}
    for rule in case.rules:
        assert rule in rules or rule in stages, (rule, found)
    if case.status == "MALFORMED":
        assert stages == {"S"}, found
    if case.status == "ACCEPTED":
        assert found == [] or all(s != "S" for s in stages), found
    if case.reason:
        reason = case.reason.format(ent=ent)
        messages = [m for r, s, m in found if r in case.rules or s in case.rules] + [outcome.reason]
        assert any(reason in m for m in messages), (reason, messages)
    assert len(outcome.reason) <= MAX_REASON
    assert all(len(m) <= MAX_REASON for *_, m in found)
    # the filer reads these: they name its files, never where this server keeps them
    assert not [m for m in [outcome.reason, *(m for *_, m in found)] if str(run.home.root) in m], found

    # every delivered byte is kept, links as links
    assert not folder.exists()
    assert snapshot(outcome.archive_path) == run.delivered[case.name]
    if case.status in ("MALFORMED", "DUPLICATE"):
        assert query(run.home, "select count(*) from raw.complaints where submission_id = ?", [sid]) == [
            (0,)
        ] or (sid in run.first_run)


def test_valid_packages_alongside_are_accepted_unharmed(run: Run) -> None:
    got = dict(
        query(
            run.home,
            "select submission_id, status from intake.submissions "
            "where submission_id in ('PAY0001-2026-10-v1', 'P2P0001-2026-10-v1')",
        )
    )
    assert got == {"PAY0001-2026-10-v1": "ACCEPTED", "P2P0001-2026-10-v1": "ACCEPTED"}
    assert query(
        run.home,
        "select count(*), sum(amount_cny) from raw.transactions where submission_id = 'PAY0001-2026-10-v1'",
    ) == [(9, 9524)]
    assert query(
        run.home,
        "select count(*) from quality.findings where submission_id like '%0001-2026-10-v1' "
        "and severity = 'error'",
    ) == [(0,)]


def test_sensor_kept_running_over_the_bad_landing(run: Run) -> None:
    assert isinstance(run.sensor_result, dg.RunRequest)
    # afterwards only the incomplete package is left, which is no reason for a run
    resource = definitions.SupTechHome(home=str(run.home.root))
    with dg.build_sensor_context(resources={"suptech": resource}) as ctx:
        assert isinstance(definitions.landing_sensor(ctx), dg.SkipReason)


def test_hostile_text_is_stored_verbatim_and_neutralised_in_edit_reports(run: Run) -> None:
    issues = {
        r[0]
        for r in query(
            run.home,
            "select issue from raw.complaints where submission_id in (?, ?)",
            [run.folders["sql_injection_text"].name, run.folders["formula_injection_text"].name],
        )
    }
    assert issues == {SQL_INJECTION, FORMULA}
    assert query(
        run.home, "select count(*) from raw.transactions where submission_id = 'PAY0001-2026-10-v1'"
    ) == [(9,)]
    sid = run.folders["formula_in_money"].name
    report = (run.home.reports / "edit" / f"{sid}.csv").read_text(encoding="utf-8")
    assert "'=1+2" in report
    assert ",=1+2" not in report and "\n=" not in report
