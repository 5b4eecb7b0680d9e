"""Incremental dbt builds (issue 13, macros/incremental.sql): a sequence of cycles - a backfill, a new month,
a corrected resubmission of an earlier period, a late filing - leaves every table of the curated schemas
with the content (the fingerprints of pipelines/warehouse/fingerprint.py) that one `dbt build
--full-refresh` over the same data gives; each cycle after the first rebuilt only the partitions its
change touched (`int_partitions_to_rebuild`, read just before each cycle's dbt step), and reads empty
after it. After each cycle the auditors' published snapshot holds every table of the live warehouse with the
same content: the first two publications fill the two slots by a whole copy, the next two bring each slot
up to date in place (pipelines/warehouse/auditor_slots.py), across two cycles' changes. And each cycle
wrote the period reports of the periods whose rows changed, and only those."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from bench.resubmission import build_v2
from pipelines import cycle
from pipelines.calendar import close_at
from pipelines.dbt_runner import build, incremental_state_current
from pipelines.home import Home
from pipelines.synth import generate
from pipelines.warehouse.db import snapshot_path, writer_lock
from tests.support import drop_package, file_fingerprints, refresh_manifest

CURATED = ["staging", "intermediate", "marts", "seeds", "dbt_state"]
EVERY_SCHEMA = ["raw", "intake", "quality", "meta", *CURATED]
PENDING = "intermediate.int_partitions_to_rebuild"
BUILD_RECORD = "dbt_state.rebuilt_partitions"
P1, P2, P3 = "2026-07", "2026-08", "2026-09"
LATE = ("WM0001", P2)  # held back from the backfill, filed after the resubmission
RESUBMITTED = "PAY0001"  # its P1 is corrected


def _pending(warehouse: Path) -> list[tuple[str, str]] | None:
    """The partitions the next build rebuilds (None before the first build made the view)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(f"select enterprise_id, period from {PENDING} order by all").fetchall()
    except duckdb.CatalogException:
        return None
    finally:
        con.close()


def _differences(published: dict[str, str], warehouse: Path) -> list[str]:
    """Tables whose content differs between the published auditors' snapshot and the live warehouse."""
    live = file_fingerprints(warehouse, EVERY_SCHEMA)
    published = {t: fp for t, fp in published.items() if t != "meta.publication"}
    return sorted(t for t in set(live) | set(published) if live.get(t) != published.get(t))


def _without_last_activity_dates(src: Path) -> None:
    """Blank the optional accounts.last_activity_date everywhere (filings.md allows it): an account's
    previous activity then comes only from its legs in the warehouse, across periods."""
    for accounts in sorted(src.glob("*/*/accounts.csv")):
        lines = accounts.read_text(encoding="utf-8").splitlines()
        col = lines[0].split(",").index("last_activity_date")
        rows = [line.split(",") for line in lines]
        for row in rows[1:]:
            row[col] = ""
        accounts.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
        refresh_manifest(accounts.parent)


def _drop(src: Path, home: Home, period: str, *, skip: tuple[str, str] | None = None) -> list[str]:
    dropped = []
    for pkg in sorted(src.glob(f"*/*-{period}-v*")):
        ent = pkg.parent.name
        if (ent, period) != skip:
            drop_package(pkg, home.landing)
            dropped.append(pkg.name)
    return dropped


@pytest.fixture(scope="module")
def sequence(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("incremental")
    src = tmp / "generated"
    generate(src, tmp / "truth.jsonl", preset="tiny", seed=3, enterprises=4, months=3, inject=[])
    _without_last_activity_dates(src)
    home = Home.resolve(tmp / "home").ensure()
    out: dict = {"home": home, "rebuilt": {}, "full_refresh": {}}

    def run(name: str, as_of, *, backfill: bool = False) -> None:
        """One cycle, step by step as run_cycle does, noting what dbt is about to rebuild."""
        run = cycle.begin(home, as_of=as_of, backfill=backfill)
        with writer_lock(home):
            for step in cycle.steps():
                if step is cycle.dbt_models:
                    out["rebuilt"][name] = _pending(home.warehouse)
                step(run)
        out["full_refresh"][name] = run.report.dbt_full_refresh
        out.setdefault("reports", {})[name] = sorted({p.stem for p in run.report.period_reports})
        out.setdefault("after", {})[name] = _pending(home.warehouse)
        out.setdefault("statuses", {}).update(run.report.statuses)
        published = snapshot_path(home, "auditor")
        slot = published.resolve()
        out.setdefault("published", {})[name] = {
            "slot": (slot.name, slot.stat().st_ino),
            "differs": _differences(file_fingerprints(published, EVERY_SCHEMA), home.warehouse),
        }

    _drop(src, home, P1)
    _drop(src, home, P2, skip=LATE)
    run("backfill", close_at(None, P2), backfill=True)
    _drop(src, home, P3)
    run("month", close_at(None, P3), backfill=True)
    later = close_at(None, P3) + timedelta(days=2)
    out["v2"] = build_v2(src / RESUBMITTED / f"{RESUBMITTED}-{P1}-v1", home.landing, tmp / "build", later)
    run("resubmission", later + timedelta(hours=1))
    late = src / LATE[0] / f"{LATE[0]}-{LATE[1]}-v1"
    drop_package(late, home.landing, mtime=later + timedelta(days=1))
    run("late filing", later + timedelta(days=1, hours=1))
    out["incremental"] = file_fingerprints(home.warehouse, CURATED)
    out["state_current"] = incremental_state_current(home.warehouse)

    # the same warehouse, every incremental model rebuilt whole
    full = tmp / "full.duckdb"
    shutil.copyfile(home.warehouse, full)
    out["full_build"] = build(
        full, later + timedelta(days=1, hours=1), exclude_unit_tests=True, full_refresh=True
    )
    out["full"] = file_fingerprints(full, CURATED)
    return out


@pytest.mark.slow
def test_the_incremental_sequence_equals_one_full_rebuild(sequence: dict) -> None:
    inc, full = sequence["incremental"], sequence["full"]
    assert sorted(inc) == sorted(full)
    # the record of what each build rebuilt is history, not content: it differs by design
    assert inc.pop(BUILD_RECORD) != full.pop(BUILD_RECORD)
    assert "intermediate.int_aml_party_legs" in inc and "dbt_state.partitions_built" in inc
    assert sorted(t for t in inc if inc[t] != full[t]) == []
    assert "--full-refresh" in sequence["full_build"].args


@pytest.mark.slow
def test_each_cycle_rebuilt_only_what_its_change_touched(sequence: dict) -> None:
    statuses = sequence["statuses"]
    assert statuses[sequence["v2"]["submission_id"]].startswith("ACCEPTED")
    assert statuses[f"{LATE[0]}-{LATE[1]}-v1"].startswith("ACCEPTED")
    # the first build is a full refresh (no recorded state); the next three are incremental
    assert sequence["full_refresh"] == {
        "backfill": True,
        "month": False,
        "resubmission": False,
        "late filing": False,
    }
    assert sequence["rebuilt"]["backfill"] is None  # no build yet: everything
    enterprises = ["CF0001", "P2P0001", "PAY0001", "WM0001"]
    # a new month: its own partitions, and an earlier one only where its legs reach back (reversals,
    # legs booked before the period)
    month = sequence["rebuilt"]["month"]
    assert {(ent, P3) for ent in enterprises} <= set(month)
    assert all(period in (P2, P3) for _, period in month)
    # a resubmission of P1: that enterprise's P1 and the later periods whose legs can see it
    assert sequence["rebuilt"]["resubmission"] == [(RESUBMITTED, P1), (RESUBMITTED, P2), (RESUBMITTED, P3)]
    # a late P2: that enterprise's P2 and P3
    assert sequence["rebuilt"]["late filing"] == [(LATE[0], P2), (LATE[0], P3)]
    assert sequence["state_current"]
    # after every complete build nothing is pending
    assert all(after == [] for after in sequence["after"].values())


@pytest.mark.slow
def test_each_publication_equals_the_live_warehouse_in_place_after_the_first_two(sequence: dict) -> None:
    published = sequence["published"]
    assert {name: p["differs"] for name, p in published.items()} == {name: [] for name in published}
    slots = {name: p["slot"] for name, p in published.items()}
    assert [s[0] for s in slots.values()] == ["auditor-a.duckdb", "auditor-b.duckdb"] * 2
    # in place: the same file (inode) as two publications before; a whole copy would be a new file
    assert slots["resubmission"][1] == slots["backfill"][1]
    assert slots["late filing"][1] == slots["month"][1]


@pytest.mark.slow
def test_each_cycle_wrote_the_reports_of_the_periods_it_changed(sequence: dict) -> None:
    """A period's supervision and quality reports are written again only when its rows (or an earlier
    period's) changed: never P1's for a new month or a late P2."""
    reports = sequence["reports"]
    assert reports["backfill"] == [P1, P2]
    # the new month, and P2, whose filing timeliness rows moved with the clock
    assert reports["month"] == [P2, P3]
    assert reports["resubmission"] == [P1, P2, P3]  # a correction of P1: P1 and every later period
    assert reports["late filing"] == [P2, P3]
