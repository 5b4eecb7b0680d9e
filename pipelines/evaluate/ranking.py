"""The party risk ranking and the AML alerts against party labels (issue 16, `suptech evaluate --labels`).

Labels: JSON Lines with `enterprise_id`, `party_id` and `is_laundering` (other keys ignored). Only the
labelled enterprises are scored. k = the labelled laundering parties.

- precision_at_k: parties ranked by their highest `marts.fct_aml_party_risk.score` over the periods (score > 0
  only), ties by party id then enterprise id; the share of the first k that are labelled laundering. Parties
  the ranking does not rank count as misses (the denominator is always k).
- baseline_precision_at_k: the same over parties ranked by the legs they are payer or payee of (the mart's
  `legs`, summed over the periods), same ties: the naive "most active first" ranking.
- flagged / flagged_precision / flagged_recall: the parties any AML alert names (`marts.fct_aml_evidence`).

Party ids in the analysts' snapshot are keyed pseudonyms: the label ids are pseudonymised with the home's
key (the snapshot's key fingerprint must match it) before they are compared.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.warehouse.db import fetch_one
from pipelines.warehouse.pseudonym import pseudonym

Party = tuple[str, str]  # (enterprise_id, party_id)


@dataclass(frozen=True)
class Label:
    enterprise_id: str
    party_id: str
    is_laundering: bool


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "t", "y")
    return bool(value)


def read_labels(path: Path) -> list[Label]:
    """The labels file; a line without enterprise_id, party_id or is_laundering is an error."""
    labels = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            missing = [k for k in ("enterprise_id", "party_id", "is_laundering") if k not in row]
            if missing:
                raise ValueError(f"{path}:{n}: missing {', '.join(missing)}")
            labels.append(
                Label(str(row["enterprise_id"]), str(row["party_id"]), _truthy(row["is_laundering"]))
            )
    return labels


def snapshot_key_id(con: duckdb.DuckDBPyConnection) -> str | None:
    """The pseudonym key fingerprint when the snapshot holds pseudonyms (the analysts' file), else None."""
    kind, kid = fetch_one(con, "select kind, pseudonym_key_id from meta.publication limit 1")
    return kid if kind == "analyst" else None


def pseudonymise(labels: Iterable[Label], key: bytes) -> list[Label]:
    return [
        Label(lb.enterprise_id, pseudonym(key, "party", lb.enterprise_id, lb.party_id), lb.is_laundering)
        for lb in labels
    ]


def _top(rows: list[tuple[str, str, float]], k: int) -> list[Party]:
    """The first k parties by value (highest first), ties by party id then enterprise id."""
    ordered = sorted(rows, key=lambda r: (-r[2], r[1], r[0]))
    return [(e, p) for e, p, _ in ordered[:k]]


def _precision_at_k(top: list[Party], positives: set[Party], k: int) -> float | None:
    return sum(1 for p in top if p in positives) / k if k else None


def evaluate_labels(con: duckdb.DuckDBPyConnection, labels: list[Label]) -> dict:
    """The labelled-data figures over the labelled enterprises (label ids as the snapshot spells them)."""
    positives = {(lb.enterprise_id, lb.party_id) for lb in labels if lb.is_laundering}
    enterprises = sorted({lb.enterprise_id for lb in labels})
    k = len(positives)
    params = [enterprises]
    ranked = [
        (str(e), str(p), float(s))
        for e, p, s in con.execute(
            "select enterprise_id, party_id, max(score) from marts.fct_aml_party_risk "
            "where enterprise_id in (select unnest(?)) and score > 0 group by enterprise_id, party_id",
            params,
        ).fetchall()
    ]
    active = [
        (str(e), str(p), float(n))
        for e, p, n in con.execute(
            "select enterprise_id, party_id, sum(legs) from marts.fct_aml_party_risk "
            "where enterprise_id in (select unnest(?)) group by enterprise_id, party_id having sum(legs) > 0",
            params,
        ).fetchall()
    ]
    flagged = {
        (str(e), str(p))
        for e, p in con.execute(
            "select distinct enterprise_id, party_id from marts.fct_aml_evidence "
            "where enterprise_id in (select unnest(?)) and party_id is not null",
            params,
        ).fetchall()
    }
    top, base_top = _top(ranked, k), _top(active, k)
    true_flagged = len(flagged & positives)
    return {
        "k": k,
        "precision_at_k": _precision_at_k(top, positives, k),
        "baseline_precision_at_k": _precision_at_k(base_top, positives, k),
        "flagged": len(flagged),
        "flagged_precision": true_flagged / len(flagged) if flagged else None,
        "flagged_recall": true_flagged / k if k else None,
        "hits_at_k": sum(1 for p in top if p in positives),
        "baseline_hits_at_k": sum(1 for p in base_top if p in positives),
        "ranked_parties": len(ranked),
        "labelled_parties": len({(lb.enterprise_id, lb.party_id) for lb in labels}),
        "enterprises": enterprises,
    }
