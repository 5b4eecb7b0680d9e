"""The analysts' snapshot holds no filed party or account identifier, no id_hash and nothing of raw.*:
identifiers are keyed pseudonyms, stable across publications with the same key, different with another key;
the auditor snapshot keeps the filed identifiers. Built from the spec examples, plus a finding, a version
diff and an alert that quote identifiers in free text (the examples are clean)."""

from __future__ import annotations

import csv
import json
import os
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.cycle import run_cycle
from pipelines.home import Home
from pipelines.reports.analyst_questions import load_questions
from pipelines.warehouse.db import connect_reader, connect_writer, publish_snapshot, writer_lock
from pipelines.warehouse.pseudonym import KEY_ENV, key_file, load_key, pseudonym
from tests.support import EXAMPLES, drop_examples

AS_OF = datetime(2026, 12, 1, tzinfo=UTC)
TOKEN = re.compile(r"""[^\s,;|()\[\]{}"'=<>]+""")
ID_COLUMN = re.compile(r"(^|_)(party_id|account_id)$")


def filed_ids() -> tuple[dict[str, set[str]], set[str]]:
    """Per enterprise: every party and account id of the examples; and every id_hash."""
    ids: dict[str, set[str]] = {}
    hashes: set[str] = set()
    for path in EXAMPLES.glob("*/*/*.csv"):
        with open(path, encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                for col, value in row.items():
                    if value and ID_COLUMN.search(col):
                        ids.setdefault(row["enterprise_id"], set()).add(value)
                    elif value and col == "id_hash":
                        hashes.add(value)
    return ids, hashes


def _hash_of(enterprise_id: str, party_id: str) -> str:
    with open(next(EXAMPLES.glob(f"{enterprise_id}/*/parties.csv")), encoding="utf-8") as fh:
        return next(r["id_hash"] for r in csv.DictReader(fh) if r["party_id"] == party_id)


def _inject(home: Home) -> None:
    """Free text that quotes identifiers, as rules and indicators may write it."""
    p1_hash, other_hash = _hash_of("PAY0001", "P1"), _hash_of("P2P0001", "L1")
    with writer_lock(home), connect_writer(home) as con:
        con.execute(
            "insert into quality.findings (submission_id, rule_id, stage, severity, filing_type, row_number, "
            "record_key, fields, message, found_at) values ('PAY0001-2026-10-v1', 'V999', 'V', 'warning', "
            "'account_balances', 4, 'W-P1|2026-10-31', ?, ?, ?)",
            [
                json.dumps(
                    [{"field": "owner_party_id", "value": "P1"}, {"field": "id_hash", "value": p1_hash}]
                ),
                f"account W-P1 of party P1 (id_hash {p1_hash}, also {other_hash}): check RC1.",
                AS_OF,
            ],
        )
        con.execute(
            "insert into intake.version_diff_fields values "
            "('PAY0001-2026-10-v1', 'PAY0001-2026-09-v1', 'accounts', 'owner_party_id', 2, ['W-P1', 'W-M1'])"
        )
        key = "PAY0001|2026-10|RES-003|break|account_id|RC1"
        con.execute(
            "insert into marts.fct_alerts (alert_id, enterprise_id, period, indicator_id, metric, dimension, "
            "dimension_value, severity, message, evidence) values (md5(?), 'PAY0001', '2026-10', 'RES-003', "
            "'break', 'account_id', 'RC1', 'BREACH', 'RES-003: break [account_id = RC1] = 1 BREACH', "
            "'worst day 2026-10-08 RC1')",
            [key],
        )
        con.execute(
            "insert into marts.fct_risk_scores (enterprise_id, period, family, alert_ids) "
            "values ('PAY0001', '2026-10', 'reserves', md5(?) || ' ffff')",
            [key],
        )


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    os.environ.pop(KEY_ENV, None)
    home = Home.resolve(tmp_path_factory.mktemp("pseudonyms") / "home").ensure()
    drop_examples(home.landing)
    run_cycle(home, as_of=AS_OF, backfill=True)
    _inject(home)
    with writer_lock(home):
        publish_snapshot(home, AS_OF)
    return home


def _text_values(con: duckdb.DuckDBPyConnection):
    """(schema.table.column, enterprise_id or None, text) for every text value of every table."""
    ent_of = dict(con.execute("select submission_id, enterprise_id from intake.submissions").fetchall())
    for schema, table in con.execute(
        "select schema_name, table_name from duckdb_tables() order by 1, 2"
    ).fetchall():
        rel = con.sql(f'select * from {schema}."{table}"')
        cols = list(zip(rel.columns, [str(t) for t in rel.types], strict=True))
        text_cols = [c for c, t in cols if t in ("VARCHAR", "JSON") or t.endswith("[]")]
        names = [c for c, _ in cols]
        for row in rel.fetchall():
            rec = dict(zip(names, row, strict=True))
            ent = rec.get("enterprise_id") or ent_of.get(rec.get("submission_id"))
            for c in text_cols:
                if rec[c] is not None:
                    value = rec[c] if isinstance(rec[c], str) else json.dumps(rec[c], default=str)
                    yield f"{schema}.{table}.{c}", ent, value


def test_no_filed_identifier_or_id_hash_in_the_analyst_snapshot(home: Home) -> None:
    ids, hashes = filed_ids()
    every_id = set().union(*ids.values())
    con = connect_reader(home)
    try:
        schemas = {s for (s,) in con.execute("select distinct schema_name from duckdb_tables()").fetchall()}
        assert schemas == {"intake", "quality", "marts", "seeds", "meta"}
        columns = {c for (c,) in con.execute("select distinct column_name from duckdb_columns()").fetchall()}
        assert not columns & {"id_hash", "manifest", "archive_path"}
        leaks = []
        for where, ent, text in _text_values(con):
            if any(h in text for h in hashes):
                leaks.append((where, text))
            candidates = ids.get(ent, set()) if ent else every_id
            tokens = {t.rstrip(".:") for t in TOKEN.findall(text)} | set(TOKEN.findall(text))
            if tokens & candidates:
                leaks.append((where, ent, text))
        assert leaks == []
        # the injected free text: pseudonyms in place of the ids, the rest untouched
        key = load_key(home)
        w_p1, p1 = pseudonym(key, "account", "PAY0001", "W-P1"), pseudonym(key, "party", "PAY0001", "P1")
        rc1 = pseudonym(key, "account", "PAY0001", "RC1")
        record_key, fields, message = con.execute(
            "select record_key, fields, message from quality.findings where rule_id = 'V999'"
        ).fetchone()
        assert record_key == f"{w_p1}|2026-10-31"
        assert json.loads(fields) == [
            {"field": "owner_party_id", "value": p1},
            {"field": "id_hash", "value": p1},
        ]
        assert (
            message == f"account {w_p1} of party {p1} (id_hash {p1}, also [id_hash withheld]): check {rc1}."
        )
        assert con.execute(
            "select example_keys from intake.version_diff_fields where column_name = 'owner_party_id'"
        ).fetchone() == ([w_p1, pseudonym(key, "account", "PAY0001", "W-M1")],)
        alert_id, dim_value, evidence = con.execute(
            "select alert_id, dimension_value, evidence from marts.fct_alerts where indicator_id = 'RES-003'"
        ).fetchone()
        assert (dim_value, evidence) == (rc1, f"worst day 2026-10-08 {rc1}")
        assert con.execute(
            "select alert_ids from marts.fct_risk_scores where family = 'reserves'"
        ).fetchone() == (f"{alert_id} ffff",)
        kind, head_seq, key_id = con.execute(
            "select kind, audit_head_seq, pseudonym_key_id from meta.publication"
        ).fetchone()
        assert kind == "analyst" and head_seq is not None and len(key_id) == 16
    finally:
        con.close()


def test_auditor_snapshot_keeps_filed_identifiers_and_raw_rows(home: Home) -> None:
    con = connect_reader(home, "auditor")
    try:
        parties = con.execute(
            "select party_id, id_hash from raw.parties where enterprise_id = 'PAY0001' order by 1"
        ).fetchall()
        assert [p for p, _ in parties] == ["M1", "P1", "P2"] and all(h for _, h in parties)
        assert con.execute("select kind from meta.publication").fetchone() == ("auditor",)
        assert con.execute("select count(*) from staging.stg_filings__accounts").fetchone()[0] > 0
    finally:
        con.close()


def test_standard_questions_answer_on_the_analyst_snapshot(home: Home) -> None:
    runner = CliRunner()
    for q in load_questions():
        result = runner.invoke(
            cli, ["ask", q.id, "--period", "2026-10", "--home", str(home.root), "--format", "csv"]
        )
        assert result.exit_code == 0, (q.id, result.output)


def _pseudonymised(home: Home) -> list[tuple]:
    con = connect_reader(home)
    try:
        return con.execute(
            "select enterprise_id, indicator_id, dimension_value, evidence from marts.fct_flow_concentration "
            "union all select submission_id, rule_id, record_key, message from quality.findings "
            "union all select enterprise_id, indicator_id, alert_id, evidence from marts.fct_alerts order by all"
        ).fetchall()
    finally:
        con.close()


def test_pseudonyms_are_stable_across_publications_and_change_with_the_key(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = key_file(home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    first = _pseudonymised(home)
    assert any("P-" in str(v) for row in first for v in row)
    with writer_lock(home):
        publish_snapshot(home)
    assert _pseudonymised(home) == first
    monkeypatch.setenv(KEY_ENV, "ab" * 32)
    with writer_lock(home):
        publish_snapshot(home)
    other = _pseudonymised(home)
    assert other != first
    assert load_key(home) == bytes.fromhex("ab" * 32)
    monkeypatch.delenv(KEY_ENV)
    with writer_lock(home):
        publish_snapshot(home)
    assert _pseudonymised(home) == first  # back to the key file: the same pseudonyms again


def test_short_keys_are_refused(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "too short")
    with pytest.raises(ValueError, match="64 hex"):
        load_key(home)
    assert Path(key_file(home)).exists()
