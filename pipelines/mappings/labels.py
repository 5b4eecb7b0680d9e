"""Score the warehouse's AML alerts on a mapped dataset against the dataset's own labels (D2, D3 of
targets.md): transaction labels (PaySim isFraud) against the transactions in fct_aml_evidence, party
labels (AMLSim isFraud accounts) against the parties flagged in fct_aml_typologies. Per indicator and
for all of them together."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines.mappings.common import load_config
from pipelines.mappings.convert import movements


@dataclass
class Score:
    indicator: str
    flagged: int
    true_flags: int
    positives: int

    @property
    def precision(self) -> float:
        return self.true_flags / self.flagged if self.flagged else float("nan")

    @property
    def recall(self) -> float:
        return self.true_flags / self.positives if self.positives else float("nan")


def _scores(flags: pl.DataFrame, truth: set[str], key: str) -> list[Score]:
    out = []
    for ind, keys in [("AML-*", flags[key])] + [
        (g[0], d[key]) for g, d in flags.group_by("indicator_id", maintain_order=True)
    ]:
        found = set(keys.to_list())
        out.append(Score(ind, len(found), len(found & truth), len(truth)))
    return sorted(out, key=lambda s: s.indicator)


def _frame(con: duckdb.DuckDBPyConnection, sql: str, eid: str) -> pl.DataFrame:
    cur = con.execute(sql, [eid])
    names = [d[0] for d in cur.description]
    return pl.DataFrame(cur.fetchall(), schema={n: pl.String for n in names}, orient="row")


def score(con: duckdb.DuckDBPyConnection, dataset: str, data_root: Path) -> list[Score]:
    cfg = load_config(dataset)
    eid, label = cfg["enterprise_id"], cfg["label"]
    if label["level"] == "transaction":
        mv = movements(cfg, data_root)
        raw = pl.read_csv(data_root / cfg["source"], infer_schema_length=10_000).with_row_index(
            "src_row", offset=1
        )
        positive = raw.filter(pl.col(label["column"]).cast(pl.Float64) > 0)["src_row"]
        truth = set(mv.filter(pl.col("src_row").is_in(positive))["src_row"].cast(pl.String).to_list())
        flags = _frame(
            con,
            "select distinct indicator_id, txn_id from marts.fct_aml_evidence where enterprise_id = ?",
            eid,
        ).with_columns(src_row=pl.col("txn_id").str.slice(-10, 9).cast(pl.Int64).cast(pl.String))
        return _scores(flags, truth, "src_row")
    nodes = pl.read_csv(data_root / label["file"])
    prefix = cfg.get("key_prefix", "")
    truth = set((prefix + nodes.filter(pl.col(label["column"]) > 0)[label["key"]].cast(pl.String)).to_list())
    flags = _frame(
        con,
        "select distinct indicator_id, dimension_value as party_id from marts.fct_aml_typologies "
        "where enterprise_id = ? and dimension = 'party' and status in ('WARN', 'BREACH')",
        eid,
    )
    return _scores(flags, truth, "party_id")


def table(scores: list[Score]) -> str:
    lines = ["| indicator | flagged | true | labelled | precision | recall |", "|---|---|---|---|---|---|"]
    for s in scores:
        lines.append(
            f"| {s.indicator} | {s.flagged} | {s.true_flags} | {s.positives} | {s.precision:.3f} | {s.recall:.3f} |"
        )
    return "\n".join(lines)


def party_labels(dataset: str, data_root: Path) -> pl.DataFrame:
    """The dataset's labels per party (enterprise_id, party_id, is_laundering), as `suptech evaluate --labels`
    reads them. Party labels (AMLSim isFraud accounts) as they are; transaction labels (PaySim isFraud) give
    every party at either end of a labelled transaction (the account drained and the one it went to)."""
    cfg = load_config(dataset)
    eid, label = cfg["enterprise_id"], cfg["label"]
    prefix = cfg.get("key_prefix", "")
    if label["level"] == "transaction":
        mv = movements(cfg, data_root)
        raw = pl.read_csv(data_root / cfg["source"], infer_schema_length=10_000).with_row_index(
            "src_row", offset=1
        )
        positive = set(raw.filter(pl.col(label["column"]).cast(pl.Float64) > 0)["src_row"].to_list())
        mv = mv.with_columns(pos=pl.col("src_row").is_in(list(positive)))
        ends = pl.concat(
            [
                mv.select(party_id="origin", pos="pos"),
                mv.filter(~pl.col("is_self")).select(party_id="counterparty", pos="pos"),
            ]
        )
        parties = ends.group_by("party_id").agg(is_laundering=pl.col("pos").any())
    else:
        nodes = pl.read_csv(data_root / label["file"])
        parties = nodes.select(
            party_id=pl.lit(prefix) + pl.col(label["key"]).cast(pl.String),
            is_laundering=pl.col(label["column"]) > 0,
        )
    return parties.select(pl.lit(eid).alias("enterprise_id"), "party_id", "is_laundering").sort("party_id")


def write_party_labels(dataset: str, data_root: Path, path: Path) -> int:
    """Write party_labels() as JSON Lines; returns the number of labelled laundering parties."""
    labels = party_labels(dataset, data_root)
    labels.write_ndjson(path)
    return int(labels["is_laundering"].sum())


if __name__ == "__main__":  # python -m pipelines.mappings.labels DATASET OUT.jsonl [DATA_ROOT]
    import sys

    root = Path(sys.argv[3]) if len(sys.argv) > 3 else Path("/work/shared/data")
    print(write_party_labels(sys.argv[1], root, Path(sys.argv[2])))
