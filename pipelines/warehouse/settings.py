"""DuckDB's resource settings for every writer of the warehouse: the one place that decides them.

    from pipelines.warehouse.settings import resolve
    s = resolve(home.warehouse)      # DuckDBSettings(memory_limit, threads, temp_directory, intake_memory_limit)

Applied to the writer connection (`pipelines.warehouse.db.connect_writer`), to dbt (`pipelines.dbt_runner`
passes them to `dbt_project/profiles.yml` through the environment) and to the intake (its lower cap while
files are staged, `pipelines.intake.service.bounded_memory`). docs/operations.md lists them.

| environment variable | setting | default |
|---|---|---|
| SUPTECH_DUCKDB_MEMORY_LIMIT | memory_limit of the writer and of dbt | half the machine's memory in whole GiB, at most 8GiB |
| SUPTECH_DUCKDB_THREADS | threads of the writer and of dbt | the machine's cores |
| SUPTECH_DUCKDB_TEMP_DIRECTORY | temp_directory (where DuckDB spills beyond memory_limit) | <home>/tmp/duckdb |
| SUPTECH_INTAKE_MEMORY_LIMIT | memory_limit while the intake stages and loads files | 1500MB |

DuckDB's own default memory_limit is 80% of the machine's memory: at `medium` a cycle peaked at 20.3 GB on a
24 GB machine shared with others (issue 13). Beyond memory_limit DuckDB spills to temp_directory; it creates
the folder when it needs it and removes what it wrote when the connection closes. The temp directory of a
warehouse at its place in a home (<home>/warehouse/suptech.duckdb) is <home>/tmp/duckdb (tmp/ is scratch
space, never backed up); any other warehouse file keeps DuckDB's own default, <file>.tmp beside it. One
writer per home, so one process at a time uses that folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

MEMORY_LIMIT_ENV = "SUPTECH_DUCKDB_MEMORY_LIMIT"
THREADS_ENV = "SUPTECH_DUCKDB_THREADS"
TEMP_DIRECTORY_ENV = "SUPTECH_DUCKDB_TEMP_DIRECTORY"
INTAKE_MEMORY_LIMIT_ENV = "SUPTECH_INTAKE_MEMORY_LIMIT"

DEFAULT_MEMORY_CAP_BYTES = 8 * 1024**3  # the default never exceeds 8GiB (P2: a national cycle <= 12 GB RSS)
DEFAULT_INTAKE_MEMORY_LIMIT = "1500MB"  # P7 asks <= 4 GB peak while a 10 GB file is taken in

_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|KIB|MB|MIB|GB|GIB|TB|TIB)\s*$", re.IGNORECASE)


class SettingsError(ValueError):
    """A configured value DuckDB would not take; the message names the variable and what it accepts."""


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: assume a small machine
        return 8 * 1024**3


def default_memory_limit() -> str:
    """Half the machine's memory, at most 8GiB, in whole GiB (at least 1): DuckDB reports a whole number of
    GiB as '8.0 GiB', which sets back exactly (the intake restores the limit from its text)."""
    return f"{max(1, min(_memory_bytes() // 2, DEFAULT_MEMORY_CAP_BYTES) // 1024**3)}GiB"


def _size(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not _SIZE.match(value):
        raise SettingsError(f"${name} = {value!r}: give a size such as 4GB, 1500MB or 512MiB")
    return value.replace(" ", "")


def _threads(env: Mapping[str, str]) -> int:
    value = env.get(THREADS_ENV, "").strip()
    if not value:
        return os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(f"${THREADS_ENV} = {value!r}: give a whole number of threads, at least 1")
    return int(value)


def default_temp_directory(warehouse: Path) -> Path:
    """<home>/tmp/duckdb for a warehouse at its place in a home, else DuckDB's own <file>.tmp."""
    warehouse = Path(warehouse).resolve()
    if warehouse.parent.name == "warehouse":
        return warehouse.parent.parent / "tmp" / "duckdb"
    return warehouse.with_name(warehouse.name + ".tmp")


@dataclass(frozen=True)
class DuckDBSettings:
    memory_limit: str
    threads: int
    temp_directory: Path
    intake_memory_limit: str

    def statements(self) -> list[str]:
        """The SET statements of the settings that may be set again on a connection at any time.
        temp_directory is not one of them: see `apply`."""
        return [f"set memory_limit = '{self.memory_limit}'", f"set threads = {self.threads}"]

    def dbt_env(self) -> dict[str, str]:
        """The environment dbt_project/profiles.yml reads them from."""
        return {
            MEMORY_LIMIT_ENV: self.memory_limit,
            THREADS_ENV: str(self.threads),
            TEMP_DIRECTORY_ENV: str(self.temp_directory),
        }


def intake_memory_limit(env: Mapping[str, str] | None = None) -> str:
    """DuckDB's memory cap while the intake stages and loads files ($SUPTECH_INTAKE_MEMORY_LIMIT)."""
    return _size(os.environ if env is None else env, INTAKE_MEMORY_LIMIT_ENV, DEFAULT_INTAKE_MEMORY_LIMIT)


def resolve(warehouse: Path, env: Mapping[str, str] | None = None) -> DuckDBSettings:
    """The settings for a writer of `warehouse`, from the environment (`env`, default os.environ)."""
    env = os.environ if env is None else env
    temp = env.get(TEMP_DIRECTORY_ENV, "").strip()
    return DuckDBSettings(
        memory_limit=_size(env, MEMORY_LIMIT_ENV, default_memory_limit()),
        threads=_threads(env),
        temp_directory=Path(temp).expanduser().resolve() if temp else default_temp_directory(warehouse),
        intake_memory_limit=intake_memory_limit(env),
    )


def apply(con: duckdb.DuckDBPyConnection, settings: DuckDBSettings) -> None:
    """Apply the settings to a DuckDB connection. temp_directory is set only when it differs: once DuckDB
    has spilled, any `set temp_directory`, even to the same folder, fails with "Cannot switch temporary
    directory after the current one has been used" (which is why dbt's profile gives it as a connect-time
    config option, not as a per-cursor setting)."""
    for sql in settings.statements():
        con.execute(sql)
    row = con.execute("select current_setting('temp_directory')").fetchone()
    if row is None or Path(str(row[0])) != settings.temp_directory:
        con.execute("set temp_directory = '{}'".format(str(settings.temp_directory).replace("'", "''")))
