"""Resubmissions: supersession, rejected versions stay final, raw rows append-only, the stored
field-level version diff and `suptech diff`, on hand-made v1/v2/v3 of the spec's PAY example."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.home import Home
from pipelines.intake import lifecycle
from pipelines.intake.audit import verify
from pipelines.intake.service import take_in
from pipelines.warehouse.db import connect_writer, publish_snapshot, writer_lock
from tests.support import copy_example, drop_package, example_packages

CLOCK = datetime(2026, 11, 21, tzinfo=UTC)
V1, V2, V3 = (f"PAY0001-2026-10-v{n}" for n in (1, 2, 3))


def _version(src: Path, tmp: Path, n: int, supersedes: str) -> Path:
    """A complete resubmission: the package renamed to v<n>, manifest identity updated."""
    pkg = tmp / f"PAY0001-2026-10-v{n}"
    src.rename(pkg)
    m = json.loads((pkg / "manifest.json").read_text())
    m.update(submission_id=pkg.name, version=n, supersedes=supersedes)
    (pkg / "manifest.json").write_text(json.dumps(m, indent=2))
    return pkg


def _set_file(pkg: Path, filing_type: str, **entry) -> None:
    m = json.loads((pkg / "manifest.json").read_text())
    f = next(f for f in m["files"] if f["filing_type"] == filing_type)
    f.update(entry)
    (pkg / "manifest.json").write_text(json.dumps(m, indent=2))


def _v2(tmp: Path) -> Path:
    """v1 with T0009 removed, T0010 added, T0007/T0008 re-channelled, T0007's region and C1's amount corrected."""
    pkg = _version(copy_example(V1, tmp / "src2"), tmp, 2, V1)
    lines = (pkg / "transactions.csv").read_text().splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        if "PAY0001-T0009" in line:
            continue
        if "PAY0001-T0007" in line:
            line = line.replace(",transfer,withdrawal,", ",card,withdrawal,").replace(",310104,", ",310101,")
        if "PAY0001-T0008" in line:
            line = line.replace(",transfer,withdrawal,", ",card,withdrawal,")
        out.append(line)
    t10 = next(x for x in lines if "PAY0001-T0009" in x).replace("T0009", "T0010").replace("E0006", "E0007")
    out.append(t10.replace(",300.00,CNY,300.00,", ",50.00,CNY,50.00,"))
    (pkg / "transactions.csv").write_text("\n".join(out) + "\n")
    c = pkg / "complaints.csv"
    c.write_text(c.read_text().replace(",1200.00,", ",1100.00,"))
    _set_file(pkg, "transactions", row_count=9, control_totals={"amount_cny": "9274.00"})
    _rehash(pkg)
    return pkg


def _rehash(pkg: Path) -> None:
    import hashlib

    m = json.loads((pkg / "manifest.json").read_text())
    for f in m["files"]:
        f["sha256"] = hashlib.sha256((pkg / f["path"]).read_bytes()).hexdigest()
    (pkg / "manifest.json").write_text(json.dumps(m, indent=2))


def _intake_and_decide(home: Home, pkg: Path, errors: int = 0, warnings: int = 0) -> dict[str, str]:
    drop_package(pkg, home.landing, mtime=CLOCK)
    with writer_lock(home), connect_writer(home) as con:
        (outcome,) = take_in(con, home, clock=CLOCK, backfill=False)
        assert outcome.status == "RECEIVED", outcome.reason
        sid = outcome.submission_id
        return lifecycle.decide(con, {sid: errors}, {sid: warnings} if warnings else {}, CLOCK)


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Home:
    tmp = tmp_path_factory.mktemp("versions")
    home = Home.resolve(tmp / "home").ensure()
    v1 = next(p for p in example_packages() if p.name == V1)
    assert _intake_and_decide(home, v1) == {V1: "ACCEPTED"}
    assert _intake_and_decide(home, _v2(tmp)) == {V2: "ACCEPTED", V1: "SUPERSEDED"}
    v3 = _version(copy_example(V1, tmp / "src3"), tmp, 3, V2)
    assert _intake_and_decide(home, v3, errors=2) == {V3: "REJECTED"}
    publish_snapshot(home)
    return home


def q(home: Home, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_rejected_higher_version_leaves_the_previous_current(home: Home) -> None:
    assert q(home, "select submission_id, status from intake.submissions order by version") == [
        (V1, "SUPERSEDED"),
        (V2, "ACCEPTED"),
        (V3, "REJECTED"),
    ]
    assert q(home, "select submission_id, status from intake.submission_events order by event_id") == [
        (V1, "RECEIVED"),
        (V1, "ACCEPTED"),
        (V2, "RECEIVED"),
        (V2, "ACCEPTED"),
        (V1, "SUPERSEDED"),
        (V3, "RECEIVED"),
        (V3, "REJECTED"),
    ]


def test_raw_rows_of_every_version_stay_queryable(home: Home) -> None:
    assert q(home, "select submission_id, count(*) from raw.transactions group by 1 order by 1") == [
        (V1, 9),
        (V2, 9),
        (V3, 9),
    ]
    assert q(
        home,
        "select amount_cny from raw.transactions where submission_id = ? and txn_id = ?",
        [V1, "PAY0001-T0009"],
    ) == [(Decimal("300.00"),)]


def test_version_diff_is_stored_with_exact_counts(home: Home) -> None:
    rows = q(
        home,
        "select filing_type, rows_old, rows_new, rows_added, rows_removed, rows_changed from intake.version_diffs "
        "where submission_id = ? and base_submission_id = ? order by filing_type",
        [V2, V1],
    )
    by_ft = {r[0]: r[1:] for r in rows}
    assert by_ft["transactions"] == (9, 9, 1, 1, 2)
    assert by_ft["complaints"] == (1, 1, 0, 0, 1)
    assert by_ft["account_balances"] == (96, 96, 0, 0, 0)
    assert set(by_ft) == {
        "enterprise_profile",
        "parties",
        "accounts",
        "account_balances",
        "transactions",
        "complaints",
        "incidents",
        "aml_reports",
        "liquidity",
    }
    assert q(
        home,
        "select filing_type, column_name, rows_changed, example_keys from intake.version_diff_fields "
        "where submission_id = ? order by 1, 2",
        [V2],
    ) == [
        ("complaints", "amount_disputed", 1, ["C1"]),
        ("transactions", "channel", 2, ["PAY0001-T0007", "PAY0001-T0008"]),
        ("transactions", "cp_region", 1, ["PAY0001-T0007"]),
    ]
    (totals,) = q(
        home,
        "select control_totals from intake.version_diffs where submission_id = ? and filing_type = 'transactions'",
        [V2],
    )[0]
    rel = round((Decimal("9274.00") - Decimal("9524.00")) / Decimal("9524.00"), 6)  # -0.026250
    assert json.loads(totals) == {"amount_cny": {"old": "9524.00", "new": "9274.00", "rel_change": str(rel)}}
    # no diff for a rejected version: it never became current
    assert q(home, "select count(*) from intake.version_diffs where submission_id = ?", [V3]) == [(0,)]


def test_cli_diff_stored_and_computed(home: Home) -> None:
    res = CliRunner().invoke(cli, ["diff", V1, V2, "--home", str(home.root), "--json"])
    assert res.exit_code == 0, res.output
    body = json.loads(res.output)
    assert body["stored"] is True
    tx = next(d for d in body["filing_types"] if d["filing_type"] == "transactions")
    assert (tx["rows_added"], tx["rows_removed"], tx["rows_changed"]) == (1, 1, 2)
    assert tx["fields"]["channel"] == {"rows_changed": 2, "example_keys": ["PAY0001-T0007", "PAY0001-T0008"]}
    # v2 -> v3 (v3 = v1's content) was never stored: the analysts' snapshot has no raw rows to compute it ...
    res = CliRunner().invoke(cli, ["diff", V2, V3, "--home", str(home.root)])
    assert res.exit_code == 1 and "--as auditor" in res.output
    # ... the auditor snapshot computes it on the fly, the mirror image
    res = CliRunner().invoke(cli, ["diff", V2, V3, "--home", str(home.root), "--json", "--as", "auditor"])
    assert res.exit_code == 0, res.output
    body = json.loads(res.output)
    assert body["stored"] is False
    tx = next(d for d in body["filing_types"] if d["filing_type"] == "transactions")
    assert (tx["rows_added"], tx["rows_removed"], tx["rows_changed"]) == (1, 1, 2)
    assert tx["control_totals"]["amount_cny"]["old"] == "9274.00"
    res = CliRunner().invoke(cli, ["diff", V1, "NOPE", "--home", str(home.root)])
    assert res.exit_code == 1 and "unknown submission NOPE" in res.output
    res = CliRunner().invoke(cli, ["diff", V1, V2, "--home", str(home.root)])
    assert res.exit_code == 0 and "channel 2" in res.output


def test_audit_chain_covers_decisions_and_diffs(home: Home) -> None:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        actions = [a for (a,) in con.execute("select action from intake.audit_log order by seq").fetchall()]
        assert verify(con).intact
    finally:
        con.close()
    assert actions == [
        *("received", "verified", "loaded", "accepted"),
        *("received", "verified", "loaded", "accepted", "superseded", "version_diff"),
        *("received", "verified", "loaded", "rejected"),
        "published",  # publish_snapshot records each publication
    ]


def test_malformed_and_rejected_are_final_and_never_superseded(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path / "home").ensure()
    v1 = next(p for p in example_packages() if p.name == V1)
    assert _intake_and_decide(home, v1) == {V1: "ACCEPTED"}
    # v2: a file changed after its checksum was taken -> MALFORMED, nothing loaded, never decided
    v2 = _version(copy_example(V1, tmp_path / "s2"), tmp_path, 2, V1)
    _rehash(v2)
    (v2 / "parties.csv").write_bytes((v2 / "parties.csv").read_bytes().replace(b"310115", b"310116"))
    drop_package(v2, home.landing, mtime=CLOCK)
    with writer_lock(home), connect_writer(home) as con:
        (outcome,) = take_in(con, home, clock=CLOCK)
        assert outcome.status == "MALFORMED"
        assert lifecycle.pending_submissions(con) == []
    v3 = _version(copy_example(V1, tmp_path / "s3"), tmp_path, 3, V2)  # supersedes names the highest received
    _rehash(v3)
    assert _intake_and_decide(home, v3, errors=1) == {V3: "REJECTED"}
    v4 = _version(copy_example(V1, tmp_path / "s4"), tmp_path, 4, V3)
    _rehash(v4)
    v4_id = "PAY0001-2026-10-v4"
    assert _intake_and_decide(home, v4, warnings=1) == {v4_id: "ACCEPTED_WITH_WARNINGS", V1: "SUPERSEDED"}
    assert q(home, "select submission_id, status from intake.submissions order by version") == [
        (V1, "SUPERSEDED"),
        (V2, "MALFORMED"),
        (V3, "REJECTED"),
        (v4_id, "ACCEPTED_WITH_WARNINGS"),
    ]
    assert q(home, "select distinct submission_id from raw.parties order by 1") == [(V1,), (V3,), (v4_id,)]
    # the diff is against the version that was current when v4 came in: v1 (identical content)
    assert q(
        home,
        "select distinct base_submission_id, sum(rows_added + rows_removed + rows_changed) over () "
        "from intake.version_diffs where submission_id = ?",
        [v4_id],
    ) == [(V1, 0)]


def test_staging_reads_the_current_version_only(home: Home, tmp_path: Path) -> None:
    from pipelines.dbt_runner import build

    build(
        home.warehouse,
        CLOCK,
        target_dir=tmp_path / "target",
        select=["+stg_filings__transactions", "+stg_filings__complaints"],
        exclude_unit_tests=True,
        extra_args=["--quiet"],
    )
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        schema = con.execute(
            "select table_schema from information_schema.tables where table_name = 'stg_filings__transactions'"
        ).fetchone()[0]
        txns = con.execute(f"select submission_id, txn_id from {schema}.stg_filings__transactions").fetchall()
        amount = con.execute(f"select amount_disputed from {schema}.stg_filings__complaints").fetchall()
    finally:
        con.close()
    assert {sid for sid, _ in txns} == {V2}  # not the superseded v1, not the rejected v3
    ids = {t for _, t in txns}
    assert "PAY0001-T0010" in ids and "PAY0001-T0009" not in ids and len(ids) == 9
    assert amount == [(Decimal("1100.00"),)]
