"""One cycle path: `suptech run` (pipelines.cycle.run_cycle) and the Dagster job materialized in process
run the same steps on the same packages at the same clock and leave the same warehouse, snapshots,
report files and lake (content hash of every table, bytes of every report and lake file;
tests/reliability/harness.py says what may legitimately differ between two homes), passing the same fault
checkpoints in the same order.

The Dagster side is the period backfill: `period_cycle` for partition 2026-10 (no clock tag: as of the
period's close, deliveries taken in as a backfill); the CLI side runs as of that close with --backfill.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines import cycle, definitions
from pipelines.calendar import close_at
from pipelines.home import Home
from tests.reliability.harness import PSEUDONYM_KEY, State, state
from tests.support import drop_examples

PERIOD = "2026-10"
AS_OF = close_at(None, PERIOD)  # 2026-11-30T15:59:59Z: 23:59:59 Shanghai on the 30th


def _checkpoints(log: Path) -> list[str]:
    return [line.split("\t")[0] for line in log.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("paths")
    out: dict = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SUPTECH_PSEUDONYM_KEY", PSEUDONYM_KEY)
        # the CLI's cycle
        cli = Home.resolve(root / "cli").ensure()
        drop_examples(cli.landing)
        mp.setenv("SUPTECH_FAULT_LOG", str(root / "cli.checkpoints"))
        out["report"] = cycle.run_cycle(cli, as_of=AS_OF, backfill=True)
        # the Dagster job, in process
        dag = Home.resolve(root / "dagster").ensure()
        drop_examples(dag.landing)
        mp.setenv("SUPTECH_FAULT_LOG", str(root / "dagster.checkpoints"))
        job = definitions.defs.resolve_job_def("period_cycle")
        out["result"] = job.execute_in_process(
            partition_key=PERIOD,
            resources={"suptech": definitions.SupTechHome(home=str(dag.root))},
            instance=dg.DagsterInstance.ephemeral(),
        )
    out.update(
        cli=cli,
        dagster=dag,
        cli_checkpoints=_checkpoints(root / "cli.checkpoints"),
        dagster_checkpoints=_checkpoints(root / "dagster.checkpoints"),
    )
    return out


@pytest.mark.slow
def test_both_paths_leave_the_same_warehouse_snapshots_and_reports(paths: dict) -> None:
    assert paths["result"].success
    a: State = state(paths["cli"])
    b: State = state(paths["dagster"])
    assert a.warehouse and a.published and a.auditor
    assert any(k.startswith("raw/filing_type=") for k in a.lake) and any(
        k.startswith("marts/") for k in a.lake
    )
    assert any(k.startswith("marts.") for k in a.warehouse)
    assert {"supervision/2026-10.html", "quality/2026-10.html"} <= set(a.reports)
    assert any(k.startswith("edit/") for k in a.reports)
    assert a.diff(b) == []
    for home in (paths["cli"], paths["dagster"]):  # written on both paths (its bytes embed dbt's run ids)
        assert (home.reports / "dbt_docs" / "static_index.html").is_file()


@pytest.mark.slow
def test_both_paths_pass_the_same_steps_in_the_same_order(paths: dict) -> None:
    cli, dag = paths["cli_checkpoints"], paths["dagster_checkpoints"]
    assert cli == dag
    firsts = [name for i, name in enumerate(cli) if name not in cli[:i]]
    order = ["cycle.start", "intake.package", "validity.start", "edit_reports.start", "dbt.start"]
    order += ["dbt.done", "publish.start", "publish.done", "period_report"]
    assert [n for n in firsts if n in order] == order


@pytest.mark.slow
def test_the_period_backfill_runs_as_of_the_close_and_materializes_every_step(paths: dict) -> None:
    result = paths["result"]
    mats = {
        e.event_specific_data.materialization.asset_key.to_user_string(): e.event_specific_data.materialization
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
    }
    assert {
        "intake/submissions",
        "quality/findings",
        "edit_reports",
        "dbt_docs",
        "published_snapshot",
    } <= set(mats)
    assert "period_reports" in mats and any(k.endswith("fct_indicator_values") for k in mats)
    assert mats["intake/submissions"].metadata["as_of"].value == "2026-11-30T15:59:59+00:00"
    assert mats["intake/submissions"].metadata["backfill"].value is True
    checks = [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert checks and all(c.event_specific_data.passed for c in checks)
    con = duckdb.connect(str(paths["dagster"].published / "suptech.duckdb"), read_only=True)
    try:
        assert con.execute("select submission_id, status from intake.submissions order by 1").fetchall() == [
            ("P2P0001-2026-10-v1", "ACCEPTED"),
            ("PAY0001-2026-10-v1", "ACCEPTED"),
        ]
        worst = con.execute(
            "select value, status from marts.fct_indicator_values where indicator_id = 'RES-001' "
            "and enterprise_id = 'PAY0001' and metric = 'coverage_ratio_worst_day'"
        ).fetchall()
        assert worst == [(pytest.approx(1.0), "OK")]
        computed = con.execute("select distinct computed_at from marts.fct_indicator_values").fetchall()
        assert [c[0].astimezone(UTC).isoformat() for c in computed] == ["2026-11-30T15:59:59+00:00"]
    finally:
        con.close()


@pytest.mark.slow
def test_dbt_docs_are_regenerated_only_when_what_they_document_changed(paths: dict, monkeypatch) -> None:
    from pipelines.reports import dbt_docs

    home: Home = paths["cli"]
    page = home.reports / "dbt_docs" / "static_index.html"
    calls: list[datetime] = []

    def fake_publish(home_: Home, as_of: datetime) -> Path:
        calls.append(as_of)
        return page

    monkeypatch.setattr(dbt_docs, "publish_dbt_docs", fake_publish)
    run = cycle.CycleRun(home, datetime(2026, 12, 1, tzinfo=UTC))
    with cycle.writer_lock(home):
        assert cycle.dbt_docs(run) is None and calls == []  # the project and the warehouse are unchanged
        (home.reports / "dbt_docs" / ".fingerprint").write_text("another project", encoding="utf-8")
        assert cycle.dbt_docs(run) == page and len(calls) == 1
        assert cycle.dbt_docs(run) is None and len(calls) == 1
        page.unlink()
        assert cycle.dbt_docs(run) == page and len(calls) == 2
