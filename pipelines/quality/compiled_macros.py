"""dbt macros the intake's rule stages run as plain DuckDB SQL, compiled from the one dbt definition.

Some rule stages need a definition that the marts own: M007 (X-13) reads OPS-003's busy hours. The rule
runs at intake, before dbt and on the submission's raw rows, so it cannot read a mart; instead dbt compiles
the macro (`dbt compile --inline`) into ``pipelines/quality/sql/<name>.sql`` with placeholder relations the
rule defines as CTEs. ``python -m pipelines.quality.compiled_macros`` (part of ``make docs``) regenerates
the files; a test compiles them again and fails when a checked-in file is stale.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent / "sql"


@dataclass(frozen=True)
class CompiledMacro:
    name: str  # file stem
    call: str  # the Jinja call compiled; its relation arguments are the placeholders
    placeholders: tuple[str, ...]

    @property
    def path(self) -> Path:
        return SQL_DIR / f"{self.name}.sql"

    def header(self) -> str:
        return (
            f"-- GENERATED from the dbt macro call {self.call} (dbt_project/macros) by\n"
            "-- `python -m pipelines.quality.compiled_macros` (make docs); do not edit.\n"
            f"-- Placeholders, defined by the caller as CTEs: {', '.join(self.placeholders)}.\n"
        )


BUSY_HOURS = CompiledMacro(
    "busy_hours",
    "{{ busy_hours('__busy_hour_legs', '__busy_hour_periods') }}",
    ("__busy_hour_legs", "__busy_hour_periods"),
)
MACROS = (BUSY_HOURS,)


def compile_macro(macro: CompiledMacro) -> str:
    """The file's text: the header and the SQL dbt compiles the call to (in-memory DuckDB: no data read)."""
    from pipelines.dbt_runner import run_dbt

    with tempfile.TemporaryDirectory(prefix="suptech-compile-") as tmp:
        result = run_dbt(
            ["compile", "--quiet", "--log-level", "none", "--inline", macro.call],
            warehouse=Path(tmp) / "compile.duckdb",
            as_of=datetime(2000, 1, 1, tzinfo=UTC),
            target_dir=Path(tmp) / "target",
        )
    nodes = getattr(result.raw, "results", None) or []
    if not result.success or not nodes:
        raise RuntimeError(f"dbt could not compile {macro.call}: {result.exception}")
    sql = "\n".join(
        line.rstrip() for line in nodes[0].node.compiled_code.strip().splitlines() if line.strip()
    )
    return macro.header() + sql + "\n"


@cache
def compiled_sql(macro: CompiledMacro) -> str:
    """The checked-in compiled SQL (header comments included)."""
    return macro.path.read_text(encoding="utf-8")


def main() -> None:
    SQL_DIR.mkdir(exist_ok=True)
    for macro in MACROS:
        macro.path.write_text(compile_macro(macro), encoding="utf-8")
        print(f"wrote {macro.path}")


if __name__ == "__main__":
    main()
