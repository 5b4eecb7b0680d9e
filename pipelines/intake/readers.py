"""Reading delivered files into a staging table of text columns, with DuckDB's own readers.

Every format (CSV, CSV.gz, JSON Lines, Parquet) is staged the same way: a temp table with `_row`
(1-based data row) and one VARCHAR column per contract column, so the syntax checks and the typed
load that follow are format-blind. GBK / GB18030 CSVs are transcoded to UTF-8 in a bounded-memory
stream first (DuckDB reads only UTF-8 here). Problems raise FileProblem with their kind (format, encoding,
header, columns, value_type), which the S rule claiming it reports (pipelines/intake/syntax.py).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.contracts import Contract
from pipelines.intake.manifest import FileEntry
from pipelines.intake.problems import Failure, Problem, rule_claiming

CHUNK = 1 << 20
MAX_HEADER_BYTES = 64 << 10
# A CSV line may hold up to 16 MiB; DuckDB's read buffer is sized explicitly (its default, 16 x the line
# limit, would claim gigabytes and defeat the intake's memory cap).
MAX_LINE_BYTES = 16 << 20
CSV_BUFFER_BYTES = 32 << 20
# A gzip file may expand at most this much: guards against compression bombs.
MAX_GZIP_RATIO = 200
MIN_GZIP_ALLOWANCE = 64 << 20


class FileProblem(Exception):
    """A file that cannot be staged: a failure while reading it (its kind is claimed by an S rule), or the
    first problem of an S check run while reading (the column set, S014)."""

    def __init__(
        self, kind: Failure | None, message: str, row_number: int | None = None, *, rule_id: str | None = None
    ):
        super().__init__(message)
        self.kind = kind
        self.row_number = row_number
        self._rule_id = rule_id

    @classmethod
    def found(cls, problem: Problem) -> FileProblem:
        return cls(None, problem.message, problem.row_number, rule_id=problem.rule_id)

    @property
    def rule_id(self) -> str:
        if self._rule_id is not None:
            return self._rule_id
        assert self.kind is not None
        return rule_claiming(self.kind)


@dataclass(frozen=True)
class StagedFile:
    table: str
    rows: int


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _open_bytes(path: Path, compression: str):
    return gzip.open(path, "rb") if compression == "gzip" else open(path, "rb")


def check_gzip(path: Path) -> None:
    """Stream-decompress a gzip file once: it must be valid and not a compression bomb."""
    limit = max(MIN_GZIP_ALLOWANCE, path.stat().st_size * MAX_GZIP_RATIO)
    total = 0
    try:
        with gzip.open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                total += len(chunk)
                if total > limit:
                    raise FileProblem(
                        "format",
                        f"gzip expands beyond {limit // (1 << 20)} MiB ({MAX_GZIP_RATIO}x its size): "
                        "refused as a possible compression bomb; send the file uncompressed or split it",
                    )
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise FileProblem("format", f"declared gzip but the file does not decompress: {exc}") from None


def transcode_to_utf8(src: Path, dst: Path, encoding: str, compression: str) -> None:
    """Stream src (declared encoding) into dst as UTF-8; invalid bytes are an S013 problem."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    line = 1
    with _open_bytes(src, compression) as fin, open(dst, "wb") as fout:
        try:
            while chunk := fin.read(CHUNK):
                text = decoder.decode(chunk)
                fout.write(text.encode("utf-8"))
                line += text.count("\n")
            fout.write(decoder.decode(b"", final=True).encode("utf-8"))
        except UnicodeDecodeError as exc:
            line += exc.object[: exc.start].count(b"\n")  # the line of the offending byte
            raise FileProblem(
                "encoding",
                f"bytes invalid in the declared encoding {encoding} at line {line}: {exc.reason}",
                line - 1,  # data row number (line 1 is the header)
            ) from None


def _read_header(path: Path, compression: str, encoding: str) -> list[str]:
    with _open_bytes(path, compression) as fh:
        first = fh.readline(MAX_HEADER_BYTES + 1)
    if not first.strip():
        raise FileProblem(
            "header", "the file is empty: a filing with no rows must still carry the header row"
        )
    if len(first) > MAX_HEADER_BYTES:
        raise FileProblem(
            "header",
            f"the first line is longer than {MAX_HEADER_BYTES} bytes: it must be the header row "
            "(the contract's column names, comma-separated)",
            0,
        )
    codec = "utf-8-sig" if encoding == "utf-8" else encoding
    try:
        text = first.decode(codec)
    except UnicodeDecodeError:
        raise FileProblem(
            "encoding",
            f"the header is not valid {encoding}; declare the file's real encoding (utf-8, gbk or gb18030)",
            0,
        ) from None
    try:
        return next(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise FileProblem("header", f"the header row cannot be read as CSV: {exc}", 0) from None


def check_columns(found: list[str], contract: Contract) -> None:
    """The column set check (S014) on a header or schema: raises its first problem."""
    from pipelines.intake import syntax  # late: the S checks import the intake modules

    for problem in syntax.column_set(found, contract):
        raise FileProblem.found(problem)


_LINE = re.compile(r"[Ll]ine:? ?([0-9]+)")
_QUOTED_SERVER_PATH = re.compile(r"""(['"])/[^'"]*\1""")


def _without_server_paths(text: str, path: Path, entry: FileEntry) -> str:
    """DuckDB's error text names the file by its path on this server (in landing, or a staging
    copy); the filer reads these messages, so each such path becomes the manifest's file name."""
    text = text.replace(str(path), entry.path)
    return _QUOTED_SERVER_PATH.sub(lambda m: f"{m.group(1)}{entry.path}{m.group(1)}", text)


def _duckdb_problem(exc: duckdb.Error, entry: FileEntry, path: Path) -> FileProblem:
    text = _without_server_paths(str(exc), path, entry)
    msg = text.split("\n")[0]
    m = _LINE.search(text)
    row = int(m.group(1)) - 1 if m else None
    if "invalid unicode" in text.lower():
        return FileProblem(
            "encoding",
            f"the file is not valid {entry.encoding}"
            + (f" (line {m.group(1)})" if m else "")
            + "; if it is GBK or GB18030, declare that encoding in the manifest",
            row,
        )
    detail = next(
        (line for line in text.split("\n")[1:] if line and not line.startswith("Original Line")), ""
    )
    return FileProblem(
        "format", f"the file cannot be read as {entry.format}: {msg} {detail}".strip()[:400], row
    )


def _stage_csv(con, path: Path, entry: FileEntry, contract: Contract, table: str, tmp: Path) -> int:
    header = _read_header(path, entry.compression, entry.encoding)
    check_columns(header, contract)
    source, compression = path, entry.compression
    if entry.encoding != "utf-8":
        source = tmp / f"{table}.utf8.csv"
        transcode_to_utf8(path, source, entry.encoding, entry.compression)
        compression = "none"
    columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in header) + "}"
    return con.execute(
        f"""create or replace temp table {table} as
            select row_number() over () as _row, {", ".join(contract.column_names)}
            from read_csv(?, header = true, auto_detect = false, columns = {columns}, delim = ',',
                          quote = '"', escape = '"', strict_mode = true, compression = ?,
                          max_line_size = {MAX_LINE_BYTES}, buffer_size = {CSV_BUFFER_BYTES})""",
        [str(source), "gzip" if compression == "gzip" else "none"],
    ).fetchone()[0]


def _stage_jsonl(con, path: Path, entry: FileEntry, contract: Contract, table: str) -> int:
    con.execute(
        f"""create or replace temp table {table}_obj as
            select row_number() over () as _row, json
            from read_json_objects(?, format = 'newline_delimited', compression = ?)""",
        [str(path), "gzip" if entry.compression == "gzip" else "none"],
    )
    bad = con.execute(f"select min(_row) from {table}_obj where json_type(json) <> 'OBJECT'").fetchone()[0]
    if bad is not None:
        raise FileProblem("format", f"line {bad} is not a JSON object", bad)
    keys = [r[0] for r in con.execute(f"select distinct unnest(json_keys(json)) from {table}_obj").fetchall()]
    extra = sorted(set(keys) - set(contract.column_names))
    if extra:
        raise FileProblem(
            "columns", f"unknown key(s) {', '.join(extra[:10])} in the {contract.filing_type} file"
        )
    cols = ", ".join(f"json ->> '{c}' as {c}" for c in contract.column_names)
    rows = con.execute(f"create or replace temp table {table} as select _row, {cols} from {table}_obj")
    rows = rows.fetchone()[0]
    con.execute(f"drop table {table}_obj")
    return rows


def _parquet_text(name: str, dtype: str) -> str:
    t = dtype.upper()
    if t.startswith("TIMESTAMP"):
        return f"strftime(cast({name} as timestamptz), '%Y-%m-%dT%H:%M:%S.%f') || '+00:00'"
    if t == "BOOLEAN":
        return f"case when {name} then 'true' when not {name} then 'false' end"
    return f"cast({name} as varchar)"


def _stage_parquet(con, path: Path, contract: Contract, table: str) -> int:
    schema = con.execute("describe select * from read_parquet(?)", [str(path)]).fetchall()
    types = {r[0]: r[1] for r in schema}
    check_columns(list(types), contract)
    for col in contract.columns:
        if col.type in ("money", "rate") and types[col.name].upper() in ("FLOAT", "DOUBLE", "REAL"):
            raise FileProblem(
                "value_type",
                f"{col.name} is {types[col.name]} in the Parquet schema: {col.type} must be "
                f"{col.duckdb_type}, never a float",
            )
    cols = ", ".join(f"{_parquet_text(c, types[c])} as {c}" for c in contract.column_names)
    return con.execute(
        f"create or replace temp table {table} as select row_number() over () as _row, {cols} from read_parquet(?)",
        [str(path)],
    ).fetchone()[0]


def stage_file(
    con: duckdb.DuckDBPyConnection, path: Path, entry: FileEntry, contract: Contract, table: str, tmp: Path
) -> StagedFile:
    """Stage one delivered file as text columns in temp table `table` (its row count comes with
    the create statement's result: no second scan)."""
    if entry.compression == "gzip":
        check_gzip(path)
    try:
        if entry.format == "csv":
            rows = _stage_csv(con, path, entry, contract, table, tmp)
        elif entry.format == "jsonl":
            rows = _stage_jsonl(con, path, entry, contract, table)
        else:
            rows = _stage_parquet(con, path, contract, table)
    except duckdb.Error as exc:
        raise _duckdb_problem(exc, entry, path) from None
    return StagedFile(table=table, rows=rows)
