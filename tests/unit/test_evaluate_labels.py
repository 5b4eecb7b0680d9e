"""`suptech evaluate --labels` (issue 16) on hand-made snapshots: precision at k of the party risk ranking, of
the legs baseline, and of the parties AML alerts name; label ids pseudonymised like the analysts' snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.evaluate.ranking import Label, evaluate_labels
from pipelines.home import Home
from pipelines.warehouse.db import snapshot_path
from pipelines.warehouse.pseudonym import KEY_ENV, key_id, pseudonym

KEY_HEX = "ab" * 32
KEY = bytes.fromhex(KEY_HEX)

# (enterprise, period, party, legs, score)
RISK = [
    ("PAY9101", "2026-10", "A", 2, 5.0),
    ("PAY9101", "2026-10", "D", 50, 6.0),
    ("PAY9101", "2026-10", "E", 40, 0.0),
    ("PAY9101", "2026-10", "B", 1, 0.0),
    ("PAY9101", "2026-10", "F", 30, 1.0),
    ("PAY9101", "2026-10", "C", 35, 0.0),
    ("PAY9101", "2026-11", "B", 1, 3.0),
    ("PAY9101", "2026-11", "D", 10, 0.0),
    ("PAY9101", "2026-11", "G", 0, 2.0),
    ("PAY9102", "2026-10", "Z", 100, 99.0),  # not a labelled enterprise: never counted
]
# (enterprise, party) named by AML evidence
EVIDENCE = [("PAY9101", "A"), ("PAY9101", "D"), ("PAY9101", "H"), ("PAY9102", "Z")]
LABELS = [("A", 1), ("B", 1), ("C", 1), ("D", 0), ("E", 0), ("F", 0), ("G", 0)]


def _snapshot(path: Path, kind: str, kid: str | None, risk: list, evidence: list, pseudo: bool) -> None:
    def pid(e: str, p: str) -> str:
        return pseudonym(KEY, "party", e, p) if pseudo else p

    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema meta")
        con.execute("create table meta.publication (kind varchar, pseudonym_key_id varchar)")
        con.execute("insert into meta.publication values (?, ?)", [kind, kid])
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_aml_party_risk (enterprise_id varchar, period varchar, party_id varchar, "
            "legs bigint, score double)"
        )
        for e, per, p, legs, score in risk:
            con.execute(
                "insert into marts.fct_aml_party_risk values (?, ?, ?, ?, ?)",
                [e, per, pid(e, p), legs, score],
            )
        con.execute("create table marts.fct_aml_evidence (enterprise_id varchar, party_id varchar)")
        for e, p in evidence:
            con.execute("insert into marts.fct_aml_evidence values (?, ?)", [e, pid(e, p)])
    finally:
        con.close()


def test_labels_cli_on_the_pseudonymised_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """k = 3 (A, B, C). Highest scores: D 6, A 5, B 3 (its 2026-11 row), G 2, F 1; E and C are unranked.
    Top 3 = D, A, B -> 2 of 3. Legs over the periods: D 60, E 40, C 35, F 30 ... -> top 3 D, E, C -> 1 of 3.
    Flagged: A, D, H (Z is PAY9102's) -> 3, of which A laundering: precision 1/3, recall 1/3."""
    monkeypatch.setenv(KEY_ENV, KEY_HEX)
    home = Home.resolve(tmp_path / "home")
    _snapshot(snapshot_path(home, "analyst"), "analyst", key_id(KEY), RISK, EVIDENCE, pseudo=True)
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        "".join(
            json.dumps({"enterprise_id": "PAY9101", "party_id": p, "is_laundering": y, "note": "ignored"})
            + "\n"
            for p, y in LABELS
        )
    )
    result = CliRunner().invoke(
        cli, ["evaluate", "--home", str(home.root), "--labels", str(labels), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # the whole of stdout is one JSON object
    assert data["k"] == 3
    assert data["precision_at_k"] == pytest.approx(2 / 3)
    assert data["baseline_precision_at_k"] == pytest.approx(1 / 3)
    assert data["flagged"] == 3
    assert data["flagged_precision"] == pytest.approx(1 / 3)
    assert data["flagged_recall"] == pytest.approx(1 / 3)

    # a snapshot pseudonymised with another key cannot be matched: an error, not a silent 0
    monkeypatch.setenv(KEY_ENV, "cd" * 32)
    result = CliRunner().invoke(
        cli, ["evaluate", "--home", str(home.root), "--labels", str(labels), "--json"]
    )
    assert result.exit_code == 1
    assert "another pseudonym key" in result.output


def test_ties_by_party_id_and_unranked_parties_are_misses(tmp_path: Path) -> None:
    """Filed ids (auditor kind, no pseudonyms). k = 2 (P1, P4). P2 and P1 both score 4: P1 first by id, so
    at k = 2 the ranking holds P1, P2 -> 1 of 2. P4 has no row. Legs: P3 10 and P1 10 tie -> P1, P3 -> 1 of 2.
    With P2's score 0 the ranking ranks P1 alone: 1 hit over k = 2 -> still 0.5 (the unranked slot is a
    miss); nothing flagged -> flagged_precision None, recall 0."""
    risk = [
        ("PAY9101", "2026-10", "P2", 1, 4.0),
        ("PAY9101", "2026-10", "P1", 10, 4.0),
        ("PAY9101", "2026-10", "P3", 10, 0.0),
    ]
    labels = [Label("PAY9101", "P1", True), Label("PAY9101", "P4", True), Label("PAY9101", "P2", False)]
    path = tmp_path / "snap.duckdb"
    _snapshot(path, "auditor", None, risk, [], pseudo=False)
    con = duckdb.connect(str(path), read_only=True)
    try:
        data = evaluate_labels(con, labels)
    finally:
        con.close()
    assert (data["k"], data["precision_at_k"], data["baseline_precision_at_k"]) == (2, 0.5, 0.5)
    assert (data["hits_at_k"], data["ranked_parties"]) == (1, 2)
    assert (data["flagged"], data["flagged_precision"], data["flagged_recall"]) == (0, None, 0.0)

    path2 = tmp_path / "snap2.duckdb"
    _snapshot(path2, "auditor", None, [risk[0][:4] + (0.0,), risk[1], risk[2]], [], pseudo=False)
    con = duckdb.connect(str(path2), read_only=True)
    try:
        data = evaluate_labels(con, labels)
    finally:
        con.close()
    assert (data["precision_at_k"], data["ranked_parties"]) == (0.5, 1)
