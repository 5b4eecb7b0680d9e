"""Great Expectations 1.x on DuckDB: the one place that adapts GX to the ``duckdb`` dialect.

Three things are needed, all kept here so they can be removed in one go when upstream catches up:

1. **Persisted connection.** Out of the box every expectation that reads rows fails on a DuckDB SQL
   datasource with ``MetricResolutionError: list index out of range``: GX runs a query inside
   ``with engine.connect()`` and fetches after the block has closed the connection, and duckdb-engine's
   results are gone by then. GX already keeps one persistent connection (``StaticPool`` + a cached
   SQLAlchemy connection) for the dialects in ``_PERSISTED_CONNECTION_DIALECTS`` (sqlite, mssql, ...);
   :func:`ensure_persisted_connection` adds ``duckdb`` to that tuple. ``tests/unit/test_gx_duckdb.py``
   fails as soon as upstream lists ``duckdb`` itself or no longer needs the fix.

2. **Sharing the caller's database instance.** The warehouse's single writer holds an open read-write
   ``duckdb.connect(path)``. A second ``duckdb.connect`` to the same file from duckdb-engine (which adds a
   ``custom_user_agent`` to the config) fails in the same process with "Can't open a connection to same
   database file with a different configuration"; with ``read_only`` it fails too, and another process
   cannot open the file at all while the writer holds its lock. So GX gets no connection string of its
   own: :func:`duckdb_datasource` builds the SQLAlchemy engine with a ``creator`` that returns
   ``con.cursor()`` -- a new DuckDB connection to the *same* database instance as ``con``. GX then sees
   what ``con`` has **committed** (not ``con``'s open transaction or its temp tables), takes no file
   lock of its own, and its cursors are closed when the datasource is disposed (and, at the latest, when
   ``con`` is closed).

3. **GX's unexpected-index query on a query asset.** With ``unexpected_index_column_names`` in the result
   format, a column-map expectation returns ``unexpected_index_query``: the SQL selecting the index columns
   and the checked column of its unexpected rows. On a query asset GX pastes the asset's query after
   ``FROM`` without parentheses (and ends with ``;``), so the text does not run;
   :func:`runnable_index_query` puts the parentheses in. ``tests/unit/test_gx_duckdb.py`` fails when
   upstream emits a runnable query itself.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import duckdb  # noqa: E402
import great_expectations as gx  # noqa: E402
from duckdb_engine import ConnectionWrapper  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from great_expectations.datasource.fluent import SQLDatasource  # noqa: E402
from great_expectations.execution_engine import sqlalchemy_execution_engine as _sae  # noqa: E402

log = logging.getLogger(__name__)
# GX logs one INFO line per expectation and field default ("_get_default_value called with key ..."):
# hundreds of lines per validation. Keep that logger at WARNING.
logging.getLogger("great_expectations.expectations.expectation").setLevel(logging.WARNING)

DIALECT = "duckdb"
# What upstream shipped, captured before any patching (the test compares against this).
UPSTREAM_PERSISTED_DIALECTS: tuple = tuple(_sae._PERSISTED_CONNECTION_DIALECTS)


class _DialectName(str):
    """A dialect name usable where GX expects a ``GXSqlDialect`` member.

    GX reads the tuple two ways: ``dialect_name in _PERSISTED_CONNECTION_DIALECTS`` (a plain str
    compare) and ``connection_string.startswith(d.value)``. ``GXSqlDialect`` has no DuckDB member and
    enums cannot be extended, so this str subclass offers ``.value`` too.
    """

    @property
    def value(self) -> str:
        return str(self)


def _names(dialects: tuple) -> set[str]:
    return {str(getattr(d, "value", d)).lower() for d in dialects}


def upstream_persists_duckdb() -> bool:
    """True once GX itself keeps a persisted connection for duckdb (then delete this module's patch)."""
    return DIALECT in _names(UPSTREAM_PERSISTED_DIALECTS)


def ensure_persisted_connection() -> None:
    """Make GX keep one persistent connection for the duckdb dialect (idempotent)."""
    if DIALECT in _names(tuple(_sae._PERSISTED_CONNECTION_DIALECTS)):
        return
    # GX's private constant is inferred as a fixed 4-tuple of GXSqlDialect; it is read as a collection of
    # names, which a _DialectName serves (see its docstring)
    _sae._PERSISTED_CONNECTION_DIALECTS = (  # type: ignore[assignment]
        *_sae._PERSISTED_CONNECTION_DIALECTS,
        _DialectName(DIALECT),
    )


def ephemeral_context() -> gx.data_context.EphemeralDataContext:
    """An in-memory GX context for one validation run: no analytics, no progress bars on stdout."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def database_file(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The file behind ``con``'s current database (None for an in-memory database)."""
    rows = con.sql("select path from duckdb_databases() where database_name = current_database()").fetchall()
    path = rows[0][0] if rows else None
    return Path(path).resolve() if path else None


@contextmanager
def duckdb_datasource(
    context: gx.data_context.AbstractDataContext,
    con: duckdb.DuckDBPyConnection,
    db_path: Path | str | None = None,
    *,
    name: str = "warehouse",
) -> Iterator[SQLDatasource]:
    """A GX SQL datasource running on ``con``'s database instance; disposed on exit.

    ``db_path`` (when given) must be the file ``con`` is connected to: it names the datasource's URL
    (for Data Docs and logs) and guards against validating one file while the caller writes another.
    """
    ensure_persisted_connection()
    actual = database_file(con)
    if db_path is not None and actual is not None and Path(db_path).resolve() != actual:
        raise ValueError(f"con is connected to {actual}, not to db_path {Path(db_path).resolve()}")
    url_path = str(actual) if actual is not None else ":memory:"

    def creator() -> ConnectionWrapper:
        return ConnectionWrapper(con.cursor())

    # the generated stub of add_sql omits SQLDatasource's `kwargs` field, which GX accepts and passes to
    # create_engine
    datasource = context.data_sources.add_sql(  # type: ignore[call-arg]
        name=name, connection_string=f"duckdb:///{url_path}", kwargs={"creator": creator}
    )
    try:
        yield datasource
    finally:
        _dispose(datasource)
        try:
            context.data_sources.delete(name)
        except Exception:  # pragma: no cover - best effort on an ephemeral context
            log.debug("could not delete GX datasource %s", name, exc_info=True)


def runnable_index_query(index_query: str, asset_query: str) -> str:
    """GX's ``unexpected_index_query`` of an expectation run on the query asset ``asset_query``, as SQL that
    runs: the asset's query (pasted after FROM as is) becomes a parenthesised derived table."""
    text = index_query.strip().removesuffix(";")
    pasted = f"FROM {asset_query}"
    if pasted not in text:
        if f"FROM ({asset_query})" in text:
            raise ValueError("GX now parenthesises the query asset: drop runnable_index_query()")
        raise ValueError(f"unexpected_index_query does not read the query asset: {index_query!r}")
    return text.replace(pasted, f"FROM ({asset_query}) AS batch", 1)


def _dispose(datasource: SQLDatasource) -> None:
    """Close the cursors GX opened on the caller's database instance."""
    engine = getattr(datasource, "_execution_engine", None)
    if engine is not None:
        conn = getattr(engine, "_connection", None)
        if conn is not None:
            conn.close()
            engine._connection = None
        engine.engine.dispose()
    sa_engine = getattr(datasource, "_engine", None)
    if sa_engine is not None:
        sa_engine.dispose()
