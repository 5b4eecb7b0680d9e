"""`make bench-resubmission` (bench/resubmission.py): a smoke run at the smallest market.

3 enterprises x 2 months are backfilled in one cycle, then one enterprise's v2 of the first month (one
complaint's text corrected) is taken in by a third cycle after an idle one (--no-marts: intake and validity only). It checks
the benchmark works end to end and records what it says it measured, not any figure."""

from __future__ import annotations

import json

from bench import resubmission


def test_tiny_resubmission_smoke_run(tmp_path) -> None:
    args = ["--scale", "tiny", "--enterprises", "3", "--months", "2", "--no-marts", "--root", str(tmp_path)]
    assert resubmission.main(args) == 0
    r = json.loads((tmp_path / "bench-resub-tiny-1.json").read_text())
    assert r["periods"] == ["2026-07", "2026-08"]
    bf, rs = r["backfill"], r["resubmission"]
    # the backfill took every month's v1 in, one per enterprise and month
    assert bf["exit"] == 0 and bf["counts"] == {"ACCEPTED": 6} and bf["timings_s"]["intake"] > 0
    assert "--backfill" in bf["command"] and "--backfill" not in rs["command"]
    # the resubmission: v2 of the earlier month, taken in and accepted, v1 superseded
    ent = rs["enterprise"]
    assert rs["period"] == "2026-07" and rs["submission_id"] == f"{ent}-2026-07-v2"
    assert rs["version"] == 2 and rs["supersedes"] == f"{ent}-2026-07-v1"
    assert r["versions"] == [
        {"submission_id": f"{ent}-2026-07-v1", "version": 1, "status": "SUPERSEDED"},
        {"submission_id": f"{ent}-2026-07-v2", "version": 2, "status": r["status"]},
    ]
    assert r["status"] in resubmission.ACCEPTED
    assert sum(rs["counts"].values()) == 2  # the v2 decided and the v1 superseded, nothing else
    assert rs["exit"] == 0 and rs["timings_s"]["intake"] > 0 and rs["peak_rss_tree_mb"] > 0
    # between them a cycle with nothing new (it fills the second snapshot slot)
    idle = r["idle"]
    assert idle["exit"] == 0 and idle["counts"] == {} and bf["as_of"] < idle["as_of"] < rs["as_of"]
    # the ratio is the two walls of the same run
    assert r["ratio"] == round(rs["wall_s"] / bf["wall_s"], 3) and r["target"] == 0.1
    assert r["meets_target"] == (r["ratio"] <= 0.1)
    for key in ("date", "commit", "machine", "command", "load_average_start", "load_average_end", "wall_s"):
        assert r[key]
    md = (tmp_path / "bench-resub-tiny-1.md").read_text()
    assert f"| R-resub | tiny (3 enterprises) | {r['ratio']:.3f} (" in md
    for row in ("| backfill | tiny", "| idle cycle | tiny", "| generator | tiny"):
        assert row in md
    assert not (tmp_path / "bench-resub-tiny-1" / "home").exists()  # deleted unless --keep
