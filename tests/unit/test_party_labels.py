"""pipelines.mappings.labels.party_labels (issue 16): the labels `suptech evaluate --labels` reads, from a
dataset's own labels, on hand-made slices of the AMLSim and PaySim files."""

from __future__ import annotations

import gzip
from pathlib import Path

from pipelines.mappings.labels import party_labels, write_party_labels


def _gz(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(text)


def test_amlsim_account_labels_with_the_key_prefix(tmp_path: Path) -> None:
    _gz(
        tmp_path / "amlsim_ibm_20k/20K_fanin200/nodes.csv.gz",
        "nodeid,isFraud,init_balance,fraudStep\n0,0,100.0,-1\n7,1,50.0,12\n",
    )
    rows = party_labels("amlsim", tmp_path).to_dicts()
    assert rows == [
        {"enterprise_id": "PAY9002", "party_id": "N0", "is_laundering": False},
        {"enterprise_id": "PAY9002", "party_id": "N7", "is_laundering": True},
    ]


def test_paysim_both_ends_of_a_fraud_transaction(tmp_path: Path) -> None:
    """C1 -> C2 TRANSFER is fraud: both laundering. C3 -> C4 CASH_OUT is not; C1 also cashes in (self: no
    counterparty party), and stays laundering for its fraud row."""
    _gz(
        tmp_path / "paysim_sample/paysim_sample.csv.gz",
        "step,type,amount,nameOrig,oldbalanceOrg,newbalanceOrig,nameDest,oldbalanceDest,newbalanceDest,"
        "isFraud,isFlaggedFraud\n"
        "1,TRANSFER,500.0,C1,500.0,0.0,C2,0.0,0.0,1.0,0\n"
        "1,CASH_OUT,20.0,C3,100.0,80.0,C4,0.0,0.0,0.0,0\n"
        "2,CASH_IN,30.0,C1,0.0,30.0,C9,0.0,0.0,0.0,0\n",
    )
    labels = {r["party_id"]: r["is_laundering"] for r in party_labels("paysim", tmp_path).to_dicts()}
    assert labels == {"C1": True, "C2": True, "C3": False, "C4": False}
    out = tmp_path / "labels.jsonl"
    assert write_party_labels("paysim", tmp_path, out) == 2
    assert len(out.read_text().splitlines()) == 4
