"""`suptech evaluate --truth FILE`: detection quality of the published snapshot against a ground truth."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

from pipelines.commands.common import err, home_option, out
from pipelines.home import Home

# targets.md D1
MIN_RECALL = 0.95
MIN_PRECISION = 0.90
MAX_CLEAN_WARNING_SHARE = 0.01


def class_precision(ev, truth: list[dict]) -> dict[str, tuple[int, int]]:
    """Per class: (flags, true flags) summed over the ids its cases expect that raised any flag."""
    from pipelines.evaluate.detection import _rule_ids_for

    expected: dict[str, set[str]] = {}
    for case in truth:
        ids = expected.setdefault(case["class"], set())
        for exp in case["expected"]:
            ids |= _rule_ids_for(exp) or {exp}
    out_: dict[str, tuple[int, int]] = {}
    for cls, ids in expected.items():
        scores = [ev.ids[i] for i in ids if i in ev.ids]
        out_[cls] = (sum(s.flags for s in scores), sum(s.true_flags for s in scores))
    return out_


def summarise(ev, truth: list[dict]) -> dict:
    """The evaluation as JSON-ready data, with per-class precision and the D1 verdicts."""
    data = ev.as_dict()
    prec = class_precision(ev, truth)
    failures = []
    for cls, c in data["classes"].items():
        flags, true_flags = prec.get(cls, (0, 0))
        c["flags"], c["true_flags"] = flags, true_flags
        c["precision"] = true_flags / flags if flags else None
        if c["recall"] < MIN_RECALL:
            failures.append(f"{cls}: recall {c['recall']:.3f} < {MIN_RECALL}")
        if c["precision"] is not None and c["precision"] < MIN_PRECISION:
            failures.append(f"{cls}: precision {c['precision']:.3f} < {MIN_PRECISION}")
    n = data["clean_submissions"]
    share = len(data["clean_with_warnings"]) / n if n else 0.0
    data["clean"] = {
        "submissions": n,
        "with_errors": len(data["clean_with_errors"]),
        "with_warnings": len(data["clean_with_warnings"]),
        "warning_share": share,
    }
    if data["clean_with_errors"]:
        failures.append(f"clean run: {len(data['clean_with_errors'])} clean submission(s) with errors")
    if share > MAX_CLEAN_WARNING_SHARE:
        failures.append(
            f"clean run: warnings on {share:.1%} of clean submissions > {MAX_CLEAN_WARNING_SHARE:.0%}"
        )
    for v in data["ids"].values():
        if isinstance(v["precision"], float) and math.isnan(v["precision"]):
            v["precision"] = None
    for v in data["classes"].values():
        if isinstance(v["recall"], float) and math.isnan(v["recall"]):
            v["recall"] = None
    data["failures"] = failures
    return data


def _print_table(data: dict) -> None:
    from rich.table import Table

    t = Table(title="Detection by injected class")
    for col in ("class", "cases", "caught", "recall", "flags", "true flags", "precision"):
        t.add_column(col, justify="left" if col == "class" else "right")
    for cls, c in data["classes"].items():
        prec = "-" if c["precision"] is None else f"{c['precision']:.3f}"
        t.add_row(
            cls,
            str(c["cases"]),
            str(c["caught"]),
            f"{c['recall']:.3f}",
            str(c["flags"]),
            str(c["true_flags"]),
            prec,
        )
    out.print(t)
    ids = Table(title="Precision per id (flags raised)")
    for col in ("id", "flags", "true flags", "precision"):
        ids.add_column(col, justify="left" if col == "id" else "right")
    for i, s in data["ids"].items():
        ids.add_row(
            i,
            str(s["flags"]),
            str(s["true_flags"]),
            "-" if s["precision"] is None else f"{s['precision']:.3f}",
        )
    out.print(ids)
    c = data["clean"]
    out.print(
        f"clean submissions: {c['submissions']}, with errors: {c['with_errors']}, "
        f"with warnings: {c['with_warnings']} ({c['warning_share']:.1%})"
    )


def _evaluate_labels(home_dir, labels_path: Path, as_json: bool) -> None:
    from pipelines.evaluate.ranking import evaluate_labels, pseudonymise, read_labels, snapshot_key_id
    from pipelines.warehouse.db import connect_reader
    from pipelines.warehouse.pseudonym import key_id, load_key

    home = Home.resolve(home_dir)
    labels = read_labels(labels_path)
    con = connect_reader(home, "analyst")
    try:
        kid = snapshot_key_id(con)
        if kid is not None:
            key = load_key(home)
            if key_id(key) != kid:
                raise click.ClickException(
                    "the snapshot's party ids were made with another pseudonym key than this home's: "
                    "label ids cannot be matched (set $SUPTECH_PSEUDONYM_KEY to the publishing key)"
                )
            labels = pseudonymise(labels, key)
        data = evaluate_labels(con, labels)
    finally:
        con.close()
    if as_json:
        click.echo(json.dumps(data))
        return
    for name in (
        "k",
        "precision_at_k",
        "baseline_precision_at_k",
        "flagged",
        "flagged_precision",
        "flagged_recall",
    ):
        value = data[name]
        out.print(
            f"{name}: {'-' if value is None else (f'{value:.3f}' if isinstance(value, float) else value)}"
        )


def register(cli: click.Group) -> None:
    @cli.command()
    @home_option
    @click.option(
        "--truth",
        "truth_path",
        default=None,
        type=click.Path(exists=True, dir_okay=False),
        help="Ground-truth JSON Lines file written by `suptech synth` (optional when --labels is given).",
    )
    @click.option(
        "--labels",
        "labels_path",
        default=None,
        type=click.Path(exists=True, dir_okay=False),
        help="Party labels, JSON Lines with enterprise_id, party_id, is_laundering: score the party risk "
        "ranking and the AML alerts against them instead of a ground truth.",
    )
    @click.option("--json", "as_json", is_flag=True, help="Print the evaluation as JSON.")
    @click.option(
        "--check",
        is_flag=True,
        help="With --truth: exit 1 unless every class reaches recall >= 0.95 and precision >= 0.90 and the "
        "clean submissions have no error and warnings on <= 1% of them (targets.md D1).",
    )
    def evaluate(home_dir, truth_path, labels_path, as_json, check) -> None:
        """Recall per injected class and precision per flag id of the published snapshot's findings and
        alerts against a ground truth, plus the clean-run figures. Reads the auditor snapshot: the truth
        names filed record keys, which the analysts' snapshot holds only as pseudonyms.

        \b
        Example:
          suptech synth --preset tiny --seed 7 && suptech run --backfill
          suptech evaluate --truth var/truth/truth-tiny-7.jsonl --check

        With --labels (party labels of a mapped dataset), reads the analysts' snapshot instead and prints
        k (labelled laundering parties), precision_at_k of the party risk ranking
        (marts.fct_aml_party_risk, each party's highest score), baseline_precision_at_k (parties ranked by
        their legs), and flagged / flagged_precision / flagged_recall of the parties AML alerts name. Label
        ids are pseudonymised with the home's key, as the snapshot's party ids are. --truth and --labels
        are not given together.

        \b
        Example:
          suptech evaluate --labels amlsim-labels.jsonl --json

        Exit codes: 0 evaluated (and, with --check, targets met), 1 targets missed or no snapshot.
        """
        if labels_path is not None:
            if truth_path is not None:
                raise click.UsageError("give --truth or --labels, not both")
            _evaluate_labels(home_dir, Path(labels_path), as_json)
            return
        if truth_path is None:
            raise click.UsageError("give --truth FILE (or --labels FILE)")
        from pipelines.evaluate.detection import evaluate as run_evaluation
        from pipelines.evaluate.detection import read_truth
        from pipelines.warehouse.db import connect_reader

        home = Home.resolve(home_dir)
        truth = read_truth(Path(truth_path))
        con = connect_reader(home, "auditor")
        try:
            data = summarise(run_evaluation(con, truth), truth)
        finally:
            con.close()
        if as_json:
            out.print_json(json.dumps(data))
        else:
            _print_table(data)
            for f in data["failures"]:
                err.print(f"[yellow]target missed[/yellow] {f}")
        if check and data["failures"]:
            raise SystemExit(1)
