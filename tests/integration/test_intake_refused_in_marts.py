"""A package refused at intake (manifest not JSON, so no period) never stops the marts: with the spec's
examples beside it, one full cycle (intake, validity, dbt build with its data tests) succeeds, and the
refused package is in intake.submissions but in no filing-quality mart with a NULL key."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from pipelines.cycle import run_cycle
from pipelines.home import Home
from tests.badinput.catalog import manifest_not_json
from tests.support import drop_examples

AS_OF = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.slow
def test_manifest_not_json_beside_the_examples_builds_dbt_without_failures(tmp_path) -> None:
    home = Home.resolve(tmp_path / "home").ensure()
    drop_examples(home.landing)
    bad = manifest_not_json(home.landing, "PAY0009")

    report = run_cycle(home, as_of=AS_OF, backfill=True, build_marts=True)  # raises if a dbt test fails

    assert report.statuses[bad.name] == "MALFORMED"
    assert report.statuses["PAY0001-2026-10-v1"] == "ACCEPTED"
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        assert con.execute(
            "select count(*) from intake.submissions where submission_id = ? and status = 'MALFORMED'",
            [bad.name],
        ).fetchone() == (1,)
        for table in ("fct_submission_quality", "fct_resubmissions"):
            rows = con.execute(f"select count(*) from marts.{table} where period is null").fetchone()
            assert rows == (0,), table
    finally:
        con.close()
