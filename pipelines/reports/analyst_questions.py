"""The standard analyst questions (docs/analyst_questions.yml): load, run on a snapshot, render into the guide.

    python -m pipelines.reports.analyst_questions      # rewrite the generated sections of docs/analysts.md
                                                       # and docs/auditors.md (auditor_queries.yml)

Each query reads the period from a DuckDB variable (`set variable period = 'YYYY-MM'`), so the same text
runs in the DuckDB CLI, in Polars scripts and here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import yaml

DOCS = Path(__file__).resolve().parents[2] / "docs"
QUESTIONS_FILE = DOCS / "analyst_questions.yml"
GUIDE = DOCS / "analysts.md"
START, END = "<!-- questions:start (generated from analyst_questions.yml) -->", "<!-- questions:end -->"
PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
VAR_NAME_RE, VAR_VALUE_RE = re.compile(r"^[a-z_]+$"), re.compile(r"^[A-Za-z0-9_.:+-]+$")
AUDITOR_QUERIES, AUDITOR_GUIDE = DOCS / "auditor_queries.yml", DOCS / "auditors.md"


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    sql: str


def load_questions(path: Path = QUESTIONS_FILE) -> list[Question]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [Question(q["id"], q["question"], q["sql"].strip()) for q in doc["questions"]]


def run_question(
    con: duckdb.DuckDBPyConnection, question: Question, period: str, **variables: str
) -> pl.DataFrame:
    """Set the period (and any other variables the query reads with getvariable) and run the query."""
    if not PERIOD_RE.match(period):
        raise ValueError(f"period must be YYYY-MM, got {period!r}")
    for name, value in {"period": period, **variables}.items():
        if not (VAR_NAME_RE.match(name) and VAR_VALUE_RE.match(value)):
            raise ValueError(f"unsafe variable {name}={value!r}")
        con.execute(f"set variable {name} = '{value}'")
    return con.sql(question.sql).pl()


def render_section(questions: list[Question], *, numbered: bool = True) -> str:
    parts = [START, ""]
    for i, q in enumerate(questions, 1):
        title = f"{i}. {q.question}" if numbered else q.question
        parts += [f"### {title}", "", f"`{q.id}`", "", "```sql", q.sql, "```", ""]
    parts.append(END)
    return "\n".join(parts)


def render_guide(guide_text: str, questions: list[Question], *, numbered: bool = True) -> str:
    """The guide with its generated section replaced by the current questions."""
    head, rest = guide_text.split(START, 1)
    _, tail = rest.split(END, 1)
    return head + render_section(questions, numbered=numbered) + tail


if __name__ == "__main__":
    GUIDE.write_text(render_guide(GUIDE.read_text(encoding="utf-8"), load_questions()), encoding="utf-8")
    guide = AUDITOR_GUIDE.read_text(encoding="utf-8")
    AUDITOR_GUIDE.write_text(
        render_guide(guide, load_questions(AUDITOR_QUERIES), numbered=False), encoding="utf-8"
    )
    print(f"wrote {GUIDE} and {AUDITOR_GUIDE}")
