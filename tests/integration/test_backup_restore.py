"""R6: backup and restore. A home cycled on the spec's example packages is backed up, restored into another
folder and cycled there on an empty landing: the marts are identical (content fingerprints) and the audit
log verifies. The backup is checked file by file; a non-empty target home is refused without --force."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.cycle import run_cycle
from pipelines.home import Home
from pipelines.warehouse.backup import EXCLUDED, BackupError, backup, read_manifest, restore
from tests.support import drop_examples, file_fingerprints

CLOCK = datetime(2026, 11, 21, tzinfo=UTC)
COMPARED = ("marts", "intermediate", "staging", "seeds", "raw", "quality")


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Home:
    home = Home.resolve(tmp_path_factory.mktemp("source") / "home").ensure()
    drop_examples(home.landing)
    run_cycle(home, as_of=CLOCK, backfill=True)
    return home


@pytest.fixture(scope="module")
def saved(source: Home, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("backups") / "b1"
    res = CliRunner().invoke(cli, ["backup", "--home", str(source.root), str(folder), "--json"])
    assert res.exit_code == 0, res.output
    return folder


def _fingerprints(path: Path) -> dict[str, str]:
    return file_fingerprints(path, COMPARED)


def test_backup_holds_what_a_cycle_cannot_regenerate(source: Home, saved: Path) -> None:
    manifest = read_manifest(saved)
    paths = {f["path"] for f in manifest["files"]}
    tops = {p.split("/")[0] for p in paths}
    assert {"archive", "warehouse", "audit", "keys"} <= tops
    assert not tops & set(EXCLUDED), "regenerated outputs are left out"
    assert "warehouse/writer.lock" not in paths and "warehouse/suptech.duckdb.wal" not in paths
    assert not any(Path(p).is_absolute() for p in paths)
    key = next(f for f in manifest["files"] if f["path"] == "keys/pseudonym.key")
    assert (
        key["mode"] == 0o600 and (os.stat(saved / "home" / "keys" / "pseudonym.key").st_mode & 0o777) == 0o600
    )
    assert (os.stat(saved).st_mode & 0o777) == 0o700
    assert manifest["audit_head"]["seq"] > 0 and manifest["schema_version"] == 2


def test_restore_into_another_folder_reproduces_identical_marts(
    source: Home, saved: Path, tmp_path: Path
) -> None:
    target = Home.resolve(tmp_path / "moved" / "home")
    res = CliRunner().invoke(cli, ["restore", "--home", str(target.root), str(saved), "--json"])
    assert res.exit_code == 0, res.output
    body = json.loads(res.output)
    assert body["published"] and body["migrated"] == []
    assert (target.published / "suptech.duckdb").exists() and any((target.reports / "supervision").iterdir())
    assert (os.stat(target.root / "keys" / "pseudonym.key").st_mode & 0o777) == 0o600
    assert (os.stat(target.root / "audit").st_mode & 0o777) == 0o700
    report = run_cycle(target, as_of=CLOCK)  # an empty landing: dbt rebuilds every model
    assert report.statuses == {}
    expected, got = _fingerprints(source.warehouse), _fingerprints(target.warehouse)
    assert any(k.startswith("marts.") for k in expected)
    assert got == expected
    verify = CliRunner().invoke(cli, ["audit", "verify", "--home", str(target.root), "--json"])
    assert verify.exit_code == 0, verify.output
    assert json.loads(verify.output)["notes"] == []


def test_restore_refuses_a_home_with_files_unless_forced(saved: Path, tmp_path: Path) -> None:
    target = Home.resolve(tmp_path / "home").ensure()  # empty folders only: accepted
    (target.landing / "stray.txt").write_text("x")
    with pytest.raises(BackupError, match="--force"):
        restore(saved, target, regenerate=False)
    result = restore(saved, target, force=True, regenerate=False)
    assert not (target.landing / "stray.txt").exists()
    assert result.files == len(read_manifest(saved)["files"]) and result.audit_entries > 0


def test_a_damaged_backup_is_refused_before_the_home_is_touched(saved: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged"
    shutil.copytree(saved, damaged)
    victim = next(p for p in (damaged / "home" / "archive").rglob("*.csv"))
    victim.write_bytes(victim.read_bytes() + b"\n")
    target = Home.resolve(tmp_path / "home")
    with pytest.raises(BackupError, match="does not match the manifest"):
        restore(damaged, target, regenerate=False)
    assert not target.warehouse.exists()


def test_backup_refuses_a_folder_inside_the_home_or_not_empty(source: Home, saved: Path) -> None:
    with pytest.raises(BackupError, match="overlaps"):
        backup(source, source.root / "backups")
    with pytest.raises(BackupError, match="not empty"):
        backup(source, saved)


def test_a_backup_from_before_versioning_is_upgraded_on_restore(tmp_path: Path) -> None:
    from pipelines.intake.service import take_in
    from pipelines.warehouse.db import connect_writer, writer_lock

    old = Home.resolve(tmp_path / "old").ensure()
    drop_examples(old.landing)
    with writer_lock(old), connect_writer(old) as con:
        take_in(con, old, clock=CLOCK, backfill=True)
    con = duckdb.connect(str(old.warehouse))
    try:
        con.execute("drop schema meta cascade")  # the schema as it was before versioning (version 0) ...
        for table in ("intake.submissions", "intake.deliveries"):  # ... with absolute archive paths
            con.execute(f"update {table} set archive_path = ? || '/' || archive_path", [str(old.root)])
    finally:
        con.close()
    saved = backup(old, tmp_path / "b").folder
    assert read_manifest(saved)["schema_version"] == 0
    shutil.rmtree(old.root)  # the home moved: nothing may point at its old place
    new = Home.resolve(tmp_path / "new")
    result = restore(saved, new, regenerate=False)
    assert result.migrated == [1, 2] and result.notes == []
    con = duckdb.connect(str(new.warehouse), read_only=True)
    try:
        paths = [p for (p,) in con.execute("select archive_path from intake.deliveries").fetchall()]
    finally:
        con.close()
    assert paths and all(p.startswith("archive/") and (new.root / p).is_dir() for p in paths)
