"""The validity stage on a real DuckDB file: the two example packages pass, mutated copies fail exactly
the rule they break, on the row and record key they break it."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.contracts import load_contracts
from pipelines.quality.findings import FINDING_CAP
from pipelines.quality.validity import applicable_rules, run_validity_stage, validate
from pipelines.warehouse.schema import create_schema
from tests.support import EXAMPLES

PAY = EXAMPLES / "PAY0001" / "PAY0001-2026-10-v1"
P2P = EXAMPLES / "P2P0001" / "P2P0001-2026-10-v1"
FOUND_AT = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)


@pytest.fixture
def warehouse(tmp_path) -> tuple[duckdb.DuckDBPyConnection, Path, Callable[[Path, str], None]]:
    """A warehouse FILE with the schema, and a test-only loader: package folder -> raw.* as <sid>.

    (To be replaced by the real intake: the loader casts every delivered column to its contract type and
    numbers the rows 1.. in file order, as raw.* expects.)"""
    db = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    create_schema(con)

    def load(package: Path, submission_id: str) -> None:
        for ft, contract in load_contracts().items():
            path = package / f"{ft}.csv"
            if not path.exists():
                continue
            cols = ", ".join(f"cast({c.name} as {c.duckdb_type})" for c in contract.columns)
            con.execute(
                f"insert into raw.{ft} select '{submission_id}', row_number() over (), {cols} "
                f"from read_csv('{path}', all_varchar = true, header = true)"
            )

    yield con, db, load
    con.close()


def mutate(src: Path, dst: Path, filing_type: str, edit: Callable[[list[dict]], list[dict]]) -> Path:
    """A copy of a package with one file edited (rows as dicts, header kept)."""
    shutil.copytree(src, dst)
    path = dst / f"{filing_type}.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header, rows = reader.fieldnames, list(reader)
    rows = edit(rows)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return dst


def set_value(match: dict, column: str, value: str):
    def edit(rows):
        hits = [r for r in rows if all(r[k] == v for k, v in match.items())]
        assert len(hits) == 1, (match, len(hits))
        hits[0][column] = value
        return rows

    return edit


# (submission_id, source package, filing type, edit, expected rule, expected row_number, expected record_key,
#  a field the finding must show with its value)
MUTANTS = [
    (
        "PAY0001-2026-10-v2",
        PAY,
        "transactions",
        set_value({"txn_id": "PAY0001-T0004"}, "channel", ""),
        "V001",
        4,
        "PAY0001-T0004",
        ("channel", None),
    ),
    (
        "PAY0001-2026-10-v3",
        PAY,
        "parties",
        set_value({"party_id": "P1"}, "kyc_class", "IV"),
        "V004",
        1,
        "P1",
        ("kyc_class", "IV"),
    ),
    (
        "PAY0001-2026-10-v4",
        PAY,
        "complaints",
        lambda rows: rows + [dict(rows[0])],
        "V012",
        1,
        "C1",
        ("complaint_id", "C1"),
    ),
    (
        "PAY0001-2026-10-v5",
        PAY,
        "account_balances",
        set_value({"account_id": "W-P2"}, "closing", "250.00"),
        "V023",
        95,
        "W-P2|2026-10-31",
        ("closing", "250.00"),
    ),
    (
        "P2P0001-2026-10-v2",
        P2P,
        "accounts",
        set_value({"account_id": "S-L2"}, "parent_account_id", "CS9"),
        "V033",
        4,
        "S-L2",
        ("parent_account_id", "CS9"),
    ),
    (
        "PAY0001-2026-10-v6",
        PAY,
        "transactions",
        set_value({"txn_id": "PAY0001-T0009"}, "value_date", "2026-11-02"),
        "V014",
        9,
        "PAY0001-T0009",
        ("value_date", "2026-11-02"),
    ),
    (
        "PAY0001-2026-10-v7",
        PAY,
        "enterprise_profile",
        set_value({"enterprise_id": "PAY0001"}, "uscc", "91310115MA1K000191"),
        "V022",
        1,
        "PAY0001",
        ("uscc", "91310115MA1K000191"),
    ),
    (
        "PAY0001-2026-10-v8",
        PAY,
        "account_balances",
        lambda rows: [r for r in rows if not (r["account_id"] == "RB1" and r["biz_date"] == "2026-10-15")],
        "V027",
        None,
        "RB1|2026-10-15",
        ("biz_date", "2026-10-15"),
    ),
    (
        "P2P0001-2026-10-v3",
        P2P,
        "investments",
        set_value({"investment_id": "INV2"}, "principal", "4300.00"),
        "V044",
        1,
        "LN1|2026-10-31",
        ("outstanding_principal", "11000.00"),
    ),
]


@pytest.fixture
def loaded(warehouse, tmp_path):
    con, db, load = warehouse
    load(PAY, PAY.name)
    load(P2P, P2P.name)
    for sid, src, ft, edit, *_ in MUTANTS:
        load(mutate(src, tmp_path / sid, ft, edit), sid)
    return con, db


def _findings(con, sid):
    return con.sql(
        "select rule_id, filing_type, row_number, record_key, fields, message, attempt, stage, severity "
        f"from quality.findings where submission_id = '{sid}' order by rule_id, row_number"
    ).fetchall()


def test_examples_produce_no_finding(warehouse):
    con, db, load = warehouse
    load(PAY, PAY.name)
    load(P2P, P2P.name)
    errors = run_validity_stage(con, db, [PAY.name, P2P.name], found_at=FOUND_AT)
    assert errors == {PAY.name: 0, P2P.name: 0}
    assert con.sql("select count(*) from quality.findings").fetchall() == [(0,)]
    results = con.sql(
        "select submission_id, count(*), count(*) filter (where status = 'PASS') "
        "from quality.rule_results group by 1 order by 1"
    ).fetchall()
    assert results == [
        (P2P.name, len(applicable_rules(P2P.name)), len(applicable_rules(P2P.name))),
        (PAY.name, len(applicable_rules(PAY.name)), len(applicable_rules(PAY.name))),
    ]
    # a PAY files no loans: the loan rules do not apply to it; they do to the P2P
    assert "V043" not in applicable_rules(PAY.name) and "V043" in applicable_rules(P2P.name)
    assert "V036" in applicable_rules(PAY.name) and "V037" in applicable_rules(P2P.name)


def test_each_mutation_fails_exactly_its_rule(loaded):
    con, db = loaded
    sids = [PAY.name, P2P.name] + [m[0] for m in MUTANTS]
    errors = run_validity_stage(con, db, sids, found_at=FOUND_AT, attempt_of={"PAY0001-2026-10-v2": 3})
    expected_counts = {PAY.name: 0, P2P.name: 0} | {m[0]: (2 if m[4] == "V012" else 1) for m in MUTANTS}
    assert errors == expected_counts
    for sid, _src, ft, _edit, rule_id, row, key, (field, value) in MUTANTS:
        found = _findings(con, sid)
        assert {f[0] for f in found} == {rule_id}, (sid, found)
        first = found[0]
        assert first[1] == ("loans" if rule_id == "V044" else ft)
        assert first[2] == row and first[3] == key, (sid, first)
        shown = {x["field"]: x["value"] for x in json.loads(first[4])}
        assert field in shown and shown[field] == value, (sid, shown)
        assert first[5] and "{" not in first[5], first[5]
        assert first[6] == (3 if sid == "PAY0001-2026-10-v2" else 1)
        assert first[7:] == ("V", "error")
        fails = con.sql(
            f"select rule_id, finding_count from quality.rule_results where submission_id = '{sid}' "
            "and status = 'FAIL'"
        ).fetchall()
        assert fails == [(rule_id, expected_counts[sid])]
    dup = _findings(con, "PAY0001-2026-10-v4")
    assert [(f[2], f[3]) for f in dup] == [(1, "C1"), (2, "C1")]
    n_rules = con.sql("select count(*) from quality.rule_results").fetchall()[0][0]
    assert n_rules == sum(len(applicable_rules(s)) for s in sids)


def test_messages_are_actionable(loaded):
    con, db = loaded
    run_validity_stage(
        con, db, ["PAY0001-2026-10-v3", "PAY0001-2026-10-v5", "PAY0001-2026-10-v8"], found_at=FOUND_AT
    )
    msgs = dict(con.sql("select rule_id, message from quality.findings").fetchall())
    assert msgs["V004"] == "kyc_class 'IV' is not one of the codes I, II, III (case-sensitive)."
    assert msgs["V023"] == "closing 250.00 is not opening 500.00 + credits 0.00 - debits 300.00 = 200.00."
    assert msgs["V027"].startswith("no balance row for RESERVE_BANK account RB1 on 2026-10-15")


def test_gx_counts_agree_with_findings_queries(loaded):
    con, db = loaded
    outcome = validate(con, db, [m[0] for m in MUTANTS])
    gx_checks = [c for c in outcome.checks if c.source.startswith("gx:")]
    assert {c.rule_id for c in gx_checks} == {"V001", "V004", "V012", "V014"}
    for c in gx_checks:
        assert c.gx_count == sum(c.counts.values()), c


def test_more_x_rule_breaks(warehouse, tmp_path):
    """X-01 flows and continuity, X-06, X-09, X-15 on accounts, enterprise and reference rules."""
    con, db, load = warehouse
    cases = {
        # the fee leg's bank side moved to RB1: RC1 and RB1 day 4 flows no longer match
        "PAY0001-2026-10-v11": (
            PAY,
            "transactions",
            set_value({"txn_id": "PAY0001-T0006"}, "debit_account_id", "RB1"),
        ),
        # opening of RC1 on day 10 differs from day 9's closing (and its own arithmetic)
        "PAY0001-2026-10-v12": (
            PAY,
            "account_balances",
            set_value({"account_id": "RC1", "biz_date": "2026-10-10"}, "opening", "2400.00"),
        ),
        # a complaint closed before it was received
        "PAY0001-2026-10-v13": (
            PAY,
            "complaints",
            set_value({"complaint_id": "C1"}, "closed_at", "2026-10-01T09:00:00+08:00"),
        ),
        # disbursed_amount no longer equals the loan's disbursement legs
        "P2P0001-2026-10-v11": (P2P, "loans", set_value({"loan_id": "LN1"}, "disbursed_amount", "11000.00")),
        # enterprise_id of a row differs from the submission's
        "P2P0001-2026-10-v12": (P2P, "parties", set_value({"party_id": "L2"}, "enterprise_id", "P2P0002")),
        # custody summary at the wrong bank
        "P2P0001-2026-10-v13": (P2P, "accounts", set_value({"account_id": "CS1"}, "bank_code", "ICBC")),
        # wallet opened after the payment that uses it
        "PAY0001-2026-10-v14": (
            PAY,
            "accounts",
            set_value({"account_id": "W-P2"}, "open_date", "2026-10-08"),
        ),
    }
    for sid, (src, ft, edit) in cases.items():
        load(mutate(src, tmp_path / sid, ft, edit), sid)
    run_validity_stage(con, db, list(cases), found_at=FOUND_AT)
    got = {sid: sorted({r[0] for r in _findings(con, sid)}) for sid in cases}
    assert got["PAY0001-2026-10-v11"] == ["V026"]
    assert got["PAY0001-2026-10-v12"] == ["V023", "V024"]
    assert got["PAY0001-2026-10-v13"] == ["V039"]
    assert got["P2P0001-2026-10-v11"] == ["V043"]
    assert got["P2P0001-2026-10-v12"] == ["V013"]
    assert got["P2P0001-2026-10-v13"] == ["V037"]
    assert got["PAY0001-2026-10-v14"] == ["V025", "V040"]
    flows = con.sql(
        "select record_key from quality.findings where submission_id = 'PAY0001-2026-10-v11' "
        "order by record_key"
    ).fetchall()
    assert flows == [("RB1|2026-10-04",), ("RC1|2026-10-04",)]
    v040 = con.sql("select row_number, record_key from quality.findings where rule_id = 'V040'").fetchall()
    assert v040 == [(9, "PAY0001-T0009")]


def test_stage_leaves_the_file_usable_and_releasable(warehouse):
    """GX shares the caller's instance: afterwards the caller writes, closes, and the file is free."""
    con, db, load = warehouse
    load(PAY, PAY.name)
    run_validity_stage(con, db, [PAY.name], found_at=FOUND_AT)
    con.execute("insert into quality.rule_results values ('x', 1, 'V001', 'PASS', 0, now(), null)")
    con.close()
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import duckdb; print(duckdb.connect({str(db)!r}).sql('select count(*) from quality.rule_results').fetchall())",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert f"[({len(applicable_rules(PAY.name)) + 1},)]" in out.stdout, out.stderr[-500:]


def test_caller_transaction_is_respected(warehouse):
    con, db, load = warehouse
    load(PAY, PAY.name)
    con.begin()
    run_validity_stage(con, db, [PAY.name], found_at=FOUND_AT)
    con.rollback()  # the caller owns the transaction: nothing was committed behind its back
    assert con.sql("select count(*) from quality.rule_results").fetchall() == [(0,)]


def test_no_submissions_is_a_no_op(warehouse):
    con, db, _ = warehouse
    assert run_validity_stage(con, db, [], found_at=FOUND_AT) == {}


def test_finding_cap_keeps_the_true_count(warehouse, tmp_path):
    con, db, load = warehouse
    sid = "PAY0001-2026-10-v20"
    load(PAY, sid)
    n = FINDING_CAP + 250
    con.execute(f"""insert into raw.complaints
        select '{sid}', 1 + i, 'PAY0001', 'CX' || i, timestamptz '2026-10-08 03:02:00+00', 'bogus', null, 'wallet',
               'x', null, null, 0, 'in_progress', false, false
        from range({n}) t(i)""")
    errors = run_validity_stage(con, db, [sid], found_at=FOUND_AT)
    assert errors == {sid: n}
    assert con.sql(f"select count(*) from quality.findings where submission_id = '{sid}'").fetchall() == [
        (FINDING_CAP,)
    ]
    assert con.sql(
        f"select finding_count from quality.rule_results where submission_id = '{sid}' and rule_id = 'V004'"
    ).fetchall() == [(n,)]
