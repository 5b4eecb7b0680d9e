"""Issue 11: no package can stop a cycle, and identity is enforced.

Each case drops the spec's examples beside one hostile delivery and takes them in: the hostile one gets a
status with a reason naming it, its bytes (or link) are archived as delivered, nothing is left in landing/,
and the examples are taken in unharmed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines import definitions
from pipelines.home import Home
from pipelines.intake import service
from pipelines.intake.service import take_in
from pipelines.warehouse.db import connect_writer, writer_lock
from tests.support import EXAMPLES, drop_examples, drop_package

CLOCK = datetime(2026, 11, 21, tzinfo=UTC)
PAY = "PAY0001-2026-10-v1"
P2P = "P2P0001-2026-10-v1"
EXAMPLE = EXAMPLES / "PAY0001" / PAY


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home.resolve(tmp_path / "home").ensure()


def run_intake(home: Home, clock: datetime = CLOCK):
    with writer_lock(home), connect_writer(home) as con:
        return take_in(con, home, clock=clock, backfill=True)


def query(home: Home, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def tree(root: bytes) -> dict[bytes, tuple[str, bytes]]:
    """Every entry under root (bytes paths, so any name): file bytes or a link's target, never followed."""
    if os.path.islink(root) or not os.path.isdir(root):
        return {b"": _entry(root)}
    out = {}
    for dirpath, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            if os.path.islink(p) or not os.path.isdir(p):
                out[os.path.relpath(p, root)] = _entry(p)
    return out


def _entry(p: bytes) -> tuple[str, bytes]:
    if os.path.islink(p):
        return ("link", os.readlink(p))
    with open(p, "rb") as fh:
        return ("file", fh.read())


def landing_left(home: Home) -> list[bytes]:
    """What is still in landing/: any entry but an (empty) enterprise folder."""
    root = os.fsencode(home.landing)
    left = []
    for name in os.listdir(root):
        p = os.path.join(root, name)
        if os.path.isdir(p) and not os.path.islink(p):
            left += [os.path.join(p, child) for child in os.listdir(p)]
        else:
            left.append(p)
    return left


def assert_examples_unharmed(home: Home) -> None:
    got = dict(
        query(
            home,
            "select submission_id, status from intake.submissions where submission_id in (?, ?)",
            [PAY, P2P],
        )
    )
    assert got == {PAY: "RECEIVED", P2P: "RECEIVED"}
    assert query(home, "select count(*) from raw.transactions where submission_id = ?", [PAY]) == [(9,)]


def refused(outcomes, sid_part: str):
    hits = [o for o in outcomes if sid_part in o.submission_id and o.submission_id not in (PAY, P2P)]
    assert len(hits) == 1, [(o.submission_id, o.status, o.reason) for o in outcomes]
    return hits[0]


def copy_example_to(dest: bytes, manifest: dict | None = None, stamp: float | None = None) -> bytes:
    os.makedirs(dest)
    for f in sorted(EXAMPLE.iterdir()):
        if f.name != "manifest.json":
            shutil.copyfile(f, os.path.join(dest, os.fsencode(f.name)))
    m = manifest or json.loads((EXAMPLE / "manifest.json").read_text(encoding="utf-8"))
    mpath = os.path.join(dest, b"manifest.json")
    with open(mpath, "w", encoding="utf-8") as fh:
        json.dump(m, fh)
    t = stamp or datetime(2026, 11, 5, tzinfo=UTC).timestamp()
    os.utime(mpath, (t, t))
    return dest


def example_manifest(**changes) -> dict:
    m = json.loads((EXAMPLE / "manifest.json").read_text(encoding="utf-8"))
    m.update(changes)
    return m


def recorded(home: Home, sid: str) -> tuple[str, str, str]:
    (row,) = query(
        home,
        "select status, status_reason, archive_path from intake.submissions where submission_id = ?",
        [sid],
    )
    return row


def test_non_utf8_names_get_a_status_and_are_archived(home: Home) -> None:
    landing = os.fsencode(home.landing)
    folder = copy_example_to(os.path.join(landing, b"PAY0003", b"PAY0003-2026-10-v1\xff"))
    ent_dir = copy_example_to(os.path.join(landing, b"PAY\xfe0004", b"PAY0004-2026-10-v1"))
    delivered = {folder: tree(folder), ent_dir: tree(ent_dir)}
    drop_examples(home.landing)
    # the landing sensor keys its run on the folder names: it must not fail on bytes that are not UTF-8
    with dg.build_sensor_context(resources={"suptech": definitions.SupTechHome(home=str(home.root))}) as ctx:
        assert isinstance(definitions.landing_sensor(ctx), dg.RunRequest)

    outcomes = run_intake(home)

    assert_examples_unharmed(home)
    assert landing_left(home) == []
    for part, escaped, src in (("PAY0003-2026-10-v1", "\\xff", folder), ("PAY\\xfe0004", "\\xfe", ent_dir)):
        o = refused(outcomes, part)
        assert o.status == "MALFORMED"
        status, reason, archive_path = recorded(home, o.submission_id)
        assert escaped in reason and status == "MALFORMED"
        assert not os.path.isabs(archive_path) and archive_path.startswith("archive/")
        assert tree(os.fsencode(o.archive_path)) == delivered[src]


def test_lone_surrogate_in_the_manifest_is_malformed(home: Home) -> None:
    dest = copy_example_to(os.path.join(os.fsencode(home.landing), b"PAY0003", b"PAY0003-2026-10-v1"))
    text = json.dumps(example_manifest(submission_id="PAY0003-2026-10-v1", enterprise_id="PAY0003"))
    text = text.replace('"supersedes": null', '"supersedes": "\\udcff"')
    Path(os.fsdecode(dest), "manifest.json").write_text(text, encoding="ascii")
    os.utime(os.path.join(dest, b"manifest.json"), (1.7e9, 1.7e9))
    drop_examples(home.landing)

    outcomes = run_intake(home)

    assert_examples_unharmed(home)
    o = refused(outcomes, "PAY0003")
    assert o.status == "MALFORMED" and o.reason.startswith("S001"), o.reason
    assert "supersedes" in o.reason and "\\udcff" in o.reason
    assert landing_left(home) == []


@pytest.mark.parametrize("period", ["9999-12", "0001-01", "1999-12", "2028-01"])
def test_period_outside_the_filing_calendar_is_malformed(home: Home, period: str) -> None:
    sid = f"PAY0003-{period}-v1"
    m = example_manifest(submission_id=sid, enterprise_id="PAY0003", period=period)
    copy_example_to(os.path.join(os.fsencode(home.landing), b"PAY0003", sid.encode()), m)
    drop_examples(home.landing)

    outcomes = run_intake(home)

    assert_examples_unharmed(home)
    o = refused(outcomes, "PAY0003")
    assert o.status == "MALFORMED"
    assert o.reason.startswith("S016") and f"period {period}" in o.reason, o.reason
    assert landing_left(home) == []


def test_symlinked_enterprise_and_package_folders_are_refused_as_links(home: Home, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    drop_package(EXAMPLE, elsewhere)
    (home.landing / "PAY0005").symlink_to(elsewhere / "PAY0001")
    (home.landing / "PAY0006").mkdir()
    (home.landing / "PAY0006" / "PAY0006-2026-10-v1").symlink_to(elsewhere / "PAY0001" / PAY)
    drop_examples(home.landing)

    outcomes = run_intake(home)

    assert_examples_unharmed(home)
    assert landing_left(home) == []
    for part in ("PAY0005", "PAY0006"):
        o = refused(outcomes, part)
        assert o.status == "MALFORMED" and "symbolic link" in o.reason, o.reason
        assert o.archive_path.is_symlink()  # the link itself, never followed
        assert os.readlink(o.archive_path).startswith(str(elsewhere))
    assert (elsewhere / "PAY0001" / PAY / "manifest.json").exists()  # the target is untouched


def test_stray_files_in_landing_get_a_status(home: Home) -> None:
    (home.landing / "README.txt").write_text("hello")
    (home.landing / "PAY0001").mkdir()
    (home.landing / "PAY0001" / "notes.csv").write_bytes(b"a,b\n1,2\n")
    drop_examples(home.landing)

    outcomes = run_intake(home)

    assert_examples_unharmed(home)
    assert landing_left(home) == []
    for part, data in (("README.txt", b"hello"), ("notes.csv", b"a,b\n1,2\n")):
        o = refused(outcomes, part)
        assert o.status == "MALFORMED" and part in o.reason and "S004" in o.reason, o.reason
        assert o.archive_path.read_bytes() == data


def test_a_package_in_another_enterprise_folder_claims_no_id(home: Home) -> None:
    # landing/PAY0002/PAY0001-2026-10-v1/ arrives first, the genuine PAY0001 package after it
    early = datetime(2026, 11, 1, tzinfo=UTC).timestamp()
    hijack = copy_example_to(os.path.join(os.fsencode(home.landing), b"PAY0002", PAY.encode()), stamp=early)
    delivered = tree(hijack)
    drop_examples(home.landing)

    outcomes = run_intake(home)

    assert_examples_unharmed(home)
    o = refused(outcomes, "PAY0002")
    assert o.status == "MALFORMED" and "S004" in o.reason and "landing folder of PAY0002" in o.reason
    assert o.submission_id != PAY
    assert tree(os.fsencode(o.archive_path)) == delivered
    assert o.archive_path.relative_to(home.archive).parts[0] == "PAY0002"
    assert query(home, "select count(*) from intake.deliveries where submission_id = ?", [PAY]) == [(1,)]
    assert query(
        home,
        "select enterprise_id, period from intake.submissions where submission_id = ?",
        [o.submission_id],
    ) == [("PAY0002", None)]


def test_a_file_changed_while_being_read_is_malformed(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    real = service.stage_file

    def grow_then_stage(con, path, entry, *args):
        if entry.filing_type == "complaints" and "PAY0001" in str(path):
            with open(path, "ab") as fh:
                fh.write(b"\n")  # a blank line: the same rows, other bytes
        return real(con, path, entry, *args)

    monkeypatch.setattr(service, "stage_file", grow_then_stage)
    drop_examples(home.landing)

    out = {o.submission_id: o for o in run_intake(home)}

    assert out[P2P].status == "RECEIVED"
    assert out[PAY].status == "MALFORMED"
    assert "S009" in out[PAY].reason and "changed while being read" in out[PAY].reason
    assert query(home, "select count(*) from raw.transactions where submission_id = ?", [PAY]) == [(0,)]
    assert_archive_matches_intake_files(home)


def test_a_file_changed_after_commit_before_the_move_is_malformed(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    def grow(sid: str, point: str = "loading") -> None:
        if sid == PAY and point == "committed":
            with open(home.landing / "PAY0001" / PAY / "complaints.csv", "ab") as fh:
                fh.write(b"\n")

    monkeypatch.setattr(service, "_crash_window", grow)
    drop_examples(home.landing)

    out = {o.submission_id: o for o in run_intake(home)}

    assert out[P2P].status == "RECEIVED"
    assert out[PAY].status == "MALFORMED" and "changed while being read" in out[PAY].reason
    assert recorded(home, PAY)[0] == "MALFORMED"
    assert query(home, "select count(*) from raw.transactions where submission_id = ?", [PAY]) == [(0,)]
    assert_archive_matches_intake_files(home)


def assert_archive_matches_intake_files(home: Home) -> None:
    rows = query(
        home,
        "select f.path, f.sha256, s.archive_path from intake.files f join intake.submissions s using (submission_id)",
    )
    assert rows
    for path, sha, archive_path in rows:
        data = (home.root / archive_path / path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha, (archive_path, path)


def test_unexpected_errors_become_the_package_status(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    real = service.syntax.filing_types_listed_once

    def boom(m):
        if m.enterprise_id == "PAY0001":
            raise RuntimeError("boom in the checks")
        return real(m)

    monkeypatch.setattr(service.syntax, "filing_types_listed_once", boom)
    drop_examples(home.landing)

    out = run_intake(home)

    got = {o.submission_id: o for o in out}
    assert got[P2P].status == "RECEIVED"
    bad = [o for o in out if o.submission_id != P2P]
    assert len(bad) == 1 and bad[0].status == "MALFORMED"
    assert "RuntimeError" in bad[0].reason and PAY in bad[0].reason
    assert landing_left(home) == []
    assert (bad[0].archive_path / "manifest.json").exists()


def test_archive_paths_are_relative_to_the_home(home: Home, tmp_path: Path) -> None:
    drop_examples(home.landing)
    run_intake(home)
    assert query(home, "select archive_path from intake.submissions where submission_id = ?", [PAY]) == [
        (f"archive/PAY0001/{PAY}/1",)
    ]
    assert query(home, "select archive_path from intake.deliveries where submission_id = ?", [PAY]) == [
        (f"archive/PAY0001/{PAY}/1",)
    ]
    # the home moved (restored elsewhere): an identical re-drop is still a recorded no-op
    moved = Home.resolve(tmp_path / "restored")
    shutil.move(str(home.root), str(moved.root))
    drop_package(EXAMPLE, moved.landing)
    out = {o.submission_id: o for o in run_intake(moved)}
    assert out[PAY].status == "DUPLICATE", out[PAY].reason
    assert (moved.archive / "PAY0001" / PAY / "2" / "manifest.json").exists()


def test_a_refused_delivery_whose_move_failed_is_archived_once_next_cycle(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    (home.landing / "README.txt").write_text("hello")
    real = service._archive

    def fail(folder, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(service, "_archive", fail)
    (first,) = run_intake(home)
    assert first.status == "MALFORMED" and "retried next cycle" in first.reason
    assert (home.landing / "README.txt").exists()

    monkeypatch.setattr(service, "_archive", real)
    (second,) = run_intake(home)
    assert second.submission_id == first.submission_id  # the same delivery: no second record
    assert second.reason == "archive of delivery 1 completed after an interrupted intake"
    assert second.archive_path.read_text() == "hello"
    assert landing_left(home) == []
    assert query(home, "select count(*) from intake.deliveries") == [(1,)]


def test_a_listed_path_through_a_folder_link_is_refused_and_kept_as_the_link(
    home: Home, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "transactions.csv").write_bytes((EXAMPLE / "transactions.csv").read_bytes())
    m = example_manifest(submission_id="PAY0003-2026-10-v1", enterprise_id="PAY0003")
    next(f for f in m["files"] if f["filing_type"] == "transactions")["path"] = "sub/transactions.csv"
    dest = copy_example_to(os.path.join(os.fsencode(home.landing), b"PAY0003", b"PAY0003-2026-10-v1"), m)
    os.remove(os.path.join(dest, b"transactions.csv"))
    os.symlink(os.fsencode(outside), os.path.join(dest, b"sub"))
    delivered = tree(dest)
    drop_examples(home.landing)

    out = {o.submission_id: o for o in run_intake(home)}

    assert_examples_unharmed(home)
    o = out["PAY0003-2026-10-v1"]
    assert o.status == "MALFORMED" and "S007" in o.reason and "passes through a link" in o.reason
    assert tree(os.fsencode(o.archive_path)) == delivered and (o.archive_path / "sub").is_symlink()
    assert sorted(p.name for p in outside.iterdir()) == ["transactions.csv"]  # nothing followed or moved
    assert query(
        home,
        "select sha256 from intake.files where submission_id = ? and filing_type = 'transactions'",
        [o.submission_id],
    ) == [(None,)]
