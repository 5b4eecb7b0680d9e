"""`make bench` (bench/harness.py): a smoke run at the smallest market, and the free-disk check.

The smoke run generates 4 enterprises x 2 months, takes the first month in, measures the raw-load floor
of the second and the monthly step (intake and validity only: --no-marts) and writes the Markdown rows
and the JSON. It checks the harness works end to end, not any figure."""

from __future__ import annotations

import json

import pytest

from bench import harness


def test_the_disk_check_refuses_before_anything_runs(tmp_path, capsys) -> None:
    with pytest.raises(harness.NotEnoughDisk, match="GiB free"):
        harness.check_disk(tmp_path, 10**18)
    code = harness.main(["--scale", "tiny", "--root", str(tmp_path), "--min-free-gb", "1e9"])
    assert code == 2
    assert "free space or choose --root" in capsys.readouterr().err
    assert not list(tmp_path.glob("bench-*"))  # nothing generated


def test_the_national_estimate_is_the_issue_budget_scale() -> None:
    """Three national months are estimated within the same order as the 40 GB goal of issue 13."""
    est = harness.estimate_bytes("national", None, None) / 1e9
    assert 40 <= est <= 200


def test_tiny_smoke_run(tmp_path) -> None:
    args = ["--scale", "tiny", "--enterprises", "4", "--months", "2", "--no-marts", "--root", str(tmp_path)]
    assert harness.main(args) == 0
    r = json.loads((tmp_path / "bench-tiny-1.json").read_text())
    assert r["periods"] == ["2026-07", "2026-08"]
    assert all(f["rows"]["transactions"] > 0 for f in r["raw_load"])
    assert r["raw_load"][0]["rows"] == r["raw_load"][1]["rows"]
    assert r["monthly_step"]["exit"] == 0 and r["monthly_step"]["timings_s"]["intake"] > 0
    assert r["monthly_step"]["counts"]  # the step took the month's submissions in
    assert r["footprint"]["home"] > 0 and r["load_average_start"]
    md = (tmp_path / "bench-tiny-1.md").read_text()
    for row in ("| raw-load floor | tiny", "| P1 | tiny", "| P2 | tiny", "| footprint | tiny"):
        assert row in md
    assert not (tmp_path / "bench-tiny-1" / "home").exists()  # deleted unless --keep
