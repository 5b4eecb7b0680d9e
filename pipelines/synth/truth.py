"""The ground truth (JSON Lines, one case per line) and the run summary written next to it."""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.synth.inject import Case


def summary_path(truth_file: Path) -> Path:
    return truth_file.with_name(truth_file.stem + ".summary.json")


def write(truth_file: Path, cases: list[Case], summary: dict) -> None:
    truth_file.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(c.truth(), ensure_ascii=False) for c in sorted(cases, key=lambda c: c.case_id)]
    truth_file.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    summary_path(truth_file).write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def read(truth_file: Path) -> list[dict]:
    return [json.loads(line) for line in Path(truth_file).read_text(encoding="utf-8").splitlines() if line]
