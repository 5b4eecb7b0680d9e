"""Publishing: two new snapshot files built from the closed live warehouse, swapped in atomically.

published/auditor.duckdb   the whole warehouse (raw.*, intake.*, quality.*, staging, intermediate, marts,
                           seeds) with the filed identifiers: the auditors' and regulators' trace; a pointer
                           to one of two slot files, the other brought up to date by what changed and then
                           pointed to (pipelines/warehouse/auditor_slots.py).
published/suptech.duckdb   the analysts' file, built new (never a copy): marts and seeds, intake tables
                           without manifests and archive paths, quality findings and rule results. Party
                           and account identifiers are keyed pseudonyms (pipelines/warehouse/pseudonym.py):
                           id columns are replaced, free text (evidence, messages, record keys, finding
                           fields) is rewritten token by token; id_hash is never published; raw.*, staging
                           and intermediate are left out.
Both hold meta.publication (kind, times, audit head, pseudonym key fingerprint).

Crash safety: the publication is first recorded in the audit log on a short writer connection; the
analysts' file is written under a temp name (<name>.tmp-<pid>), the auditors' inactive slot in one
transaction; both are checkpointed and fsynced, then the analysts' file is renamed over the old one and the
auditors' pointer turned, and the folder is fsynced. A killed publish leaves temp files and an unpublished
slot only, removed or brought up to date by the next one; readers see the old file or the new one, never a
partial file. Publishing twice gives the same content (idempotent) apart
from meta.publication and the audit entry.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.home import Home
from pipelines.warehouse import auditor_slots
from pipelines.warehouse.db import SNAPSHOT_NAMES, connect_writer, fetch_one, snapshot_path
from pipelines.warehouse.pseudonym import SqlHmac, key_id, load_key

# intake tables analysts get, with the columns left out (the filer's raw manifest and server paths)
ANALYST_INTAKE: dict[str, tuple[str, ...]] = {
    "submissions": ("manifest", "archive_path"),
    "deliveries": ("archive_path",),
    "files": (),
    "submission_events": (),
    "audit_log": (),  # verbatim: `suptech audit verify` recomputes its hash chain (no party ids in it)
    "acknowledgements": (),
    "version_diffs": (),
    "version_diff_fields": (),
}
ANALYST_QUALITY: dict[str, tuple[str, ...]] = {"findings": (), "rule_results": ()}
ANALYST_COPIED_SCHEMAS = ("seeds",)
# free text that may quote a filed identifier: rewritten token by token
SCRUBBED: dict[tuple[str, str], tuple[str, ...]] = {
    ("intake", "submissions"): ("status_reason",),
    ("intake", "submission_events"): ("reason", "details"),
    ("intake", "acknowledgements"): ("reason",),
    ("intake", "version_diff_fields"): ("example_keys",),
    ("quality", "findings"): ("record_key", "fields", "message"),
    ("quality", "rule_results"): ("detail",),
}
MARTS_SCRUBBED = ("evidence", "message")
NEVER_PUBLISHED = ("id_hash",)
# dimension values that are identifiers (marts' dimension column)
ID_DIMENSIONS = {"account_id": "account", "party": "party", "party_id": "party"}
# a token of free text: what lies between blanks and punctuation ('|' separates record key parts)
TOKEN_SQL = r"""[^\s,;|()\[\]{}"'=<>]+"""
TOKEN_RE = re.compile(TOKEN_SQL)
TRAILING = ".:"
ANY_ENTERPRISE = "*"
# file modes: the analysts' file may be shared (a group or a read-only mount of published/), the auditors'
# file is group-readable only (give it to the auditors' group); see docs/security.md
MODES = {"analyst": 0o644, "auditor": 0o640}
WITHHELD = "[id_hash withheld]"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _id_kind(column: str) -> str | None:
    """'party' or 'account' for a column holding such identifiers, by its name."""
    if column == "party_id" or column.endswith("_party_id") or column == "counterparty":
        return "party"
    if column == "account_id" or column.endswith("_account_id"):
        return "account"
    return None


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _tables(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select table_name from duckdb_tables() where database_name = ? and schema_name = ? order by 1",
            [catalog, schema],
        ).fetchall()
    ]


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> list[tuple[str, str]]:
    """(name, type) of a table's columns (a zero-row relation: much faster than duckdb_columns())."""
    rel = con.sql(f"select * from {_q(catalog)}.{_q(schema)}.{_q(table)} limit 0")
    return [(name, str(dtype)) for name, dtype in zip(rel.columns, rel.types, strict=True)]


def record_publication(home: Home, at: datetime, kid: str) -> tuple[int | None, str | None]:
    """Append the 'published' audit entry on a short writer connection; returns the new audit head."""
    from pipelines.intake import audit
    from pipelines.intake.lifecycle import transaction

    with connect_writer(home) as con:
        with transaction(con):
            audit.append(
                con,
                "published",
                None,
                at,
                {"snapshots": sorted(SNAPSHOT_NAMES.values()), "pseudonym_key_id": kid},
            )
        row = con.execute("select seq, hash from intake.audit_log order by seq desc limit 1").fetchone()
        con.execute("checkpoint")
    return (row[0], row[1]) if row else (None, None)


def write_meta_table(con: duckdb.DuckDBPyConnection, kind: str, meta: dict) -> None:
    con.execute("create schema if not exists meta")
    con.execute("drop table if exists meta.publication")
    con.execute(
        "create table meta.publication (kind varchar, published_at timestamptz, as_of timestamptz, "
        "audit_head_seq bigint, audit_head_hash varchar, pseudonym_key_id varchar)"
    )
    con.execute(
        "insert into meta.publication values (?, ?, ?, ?, ?, ?)",
        [kind, meta["published_at"], meta["as_of"], meta["head_seq"], meta["head_hash"], meta["key_id"]],
    )


class AnalystBuilder:
    """Writes the analysts' file from the live warehouse attached read-only as `wh`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, key: bytes) -> None:
        self.con = con
        self.hmac = SqlHmac.of(key)
        self.main = fetch_one(con, "select current_database()")[0]

    def pseudo(self, kind: str, enterprise_sql: str, id_sql: str) -> str:
        return self.hmac.expr(kind, enterprise_sql, id_sql)

    def build(self) -> None:
        con = self.con
        self._known_ids()
        for schema in ANALYST_COPIED_SCHEMAS:
            con.execute(f"create schema if not exists {schema}")
            for table in _tables(con, "wh", schema):
                con.execute(f"create table {schema}.{_q(table)} as select * from wh.{schema}.{_q(table)}")
        for schema, tables in (("intake", ANALYST_INTAKE), ("quality", ANALYST_QUALITY)):
            con.execute(f"create schema if not exists {schema}")
            present = set(_tables(con, "wh", schema))
            for table, dropped in tables.items():
                if table not in present:
                    continue
                self._copy(schema, table, dropped)
        for (schema, table), columns in SCRUBBED.items():
            if table in set(_tables(con, self.main, schema)):
                for column in columns:
                    self._scrub(schema, table, column)
        con.execute("create schema if not exists marts")
        for table in _tables(con, "wh", "marts"):
            self._mart(table)
        self._realias_alerts()
        con.execute("drop table if exists known_ids")

    def _known_ids(self) -> None:
        """Temp table (never in the file) of every filed party and account id per enterprise, and of each
        party's id_hash (replaced by that party's pseudonym if free text quotes it)."""
        parts = []
        for table in _tables(self.con, "wh", "raw"):
            cols = dict(_columns(self.con, "wh", "raw", table))
            if "enterprise_id" not in cols:
                continue
            for col in cols:
                kind = _id_kind(col)
                if kind:
                    parts.append(
                        f"select enterprise_id, {_q(col)} as token, '{kind}' as kind, {_q(col)} as src "
                        f"from wh.raw.{_q(table)} where {_q(col)} is not null"
                    )
            if table == "parties" and "id_hash" in cols:
                parts.append(
                    "select enterprise_id, id_hash, 'party', party_id from wh.raw.parties "
                    "where id_hash is not null and party_id is not null"
                )
                # id_hash links a person across enterprises: withheld wherever it is quoted
                parts.append(
                    f"select {_lit(ANY_ENTERPRISE)}, id_hash, 'withheld', null from wh.raw.parties "
                    "where id_hash is not null"
                )
        empty = "select null::varchar, null::varchar, null::varchar, null::varchar where false"
        body = " union ".join(parts) if parts else empty
        # an id filed both as a party and as an account: the party wins ('party' > 'account')
        self.con.execute(
            "create temp table known_ids as select enterprise_id, token, max(kind) as kind, "
            f"arg_max(src, kind) as src from ({body}) group by 1, 2"
        )

    def _copy(self, schema: str, table: str, dropped: tuple[str, ...]) -> None:
        cols = [c for c, _ in _columns(self.con, "wh", schema, table) if c not in dropped + NEVER_PUBLISHED]
        select = ", ".join(_q(c) for c in cols)
        self.con.execute(f"create table {schema}.{_q(table)} as select {select} from wh.{schema}.{_q(table)}")

    def _mart(self, table: str) -> None:
        cols = _columns(self.con, "wh", "marts", table)
        names = {c for c, _ in cols}
        has_ent = "enterprise_id" in names
        select = []
        for col, _type in cols:
            kind = _id_kind(col)
            if col in NEVER_PUBLISHED or (kind and not has_ent):
                continue  # an id that cannot be pseudonymised without its enterprise is left out
            if kind:
                select.append(f"{self.pseudo(kind, 'enterprise_id', _q(col))} as {_q(col)}")
            elif col == "dimension_value" and "dimension" in names and has_ent:
                cases = " ".join(
                    f"when dimension = {_lit(dim)} then {self.pseudo(k, 'enterprise_id', 'dimension_value')}"
                    for dim, k in ID_DIMENSIONS.items()
                )
                select.append(f"case {cases} else dimension_value end as dimension_value")
            else:
                select.append(_q(col))
        self.con.execute(
            f"create table marts.{_q(table)} as select {', '.join(select)} from wh.marts.{_q(table)}"
        )
        if has_ent:
            for col in MARTS_SCRUBBED:
                if col in names:
                    self._scrub("marts", table, col)

    def _enterprise_sql(self, schema: str, table: str) -> str | None:
        names = {c for c, _ in _columns(self.con, self.main, schema, table)}
        if "enterprise_id" in names:
            return "t.enterprise_id"
        if "submission_id" in names:
            return "(select s.enterprise_id from wh.intake.submissions s where s.submission_id = t.submission_id)"
        return None

    def _scrub(self, schema: str, table: str, column: str) -> None:
        """Replace every token of `column` that is a filed id of the row's enterprise by its pseudonym."""
        con = self.con
        types = dict(_columns(con, self.main, schema, table))
        if column not in types:
            return
        ent = self._enterprise_sql(schema, table)
        if ent is None:
            return
        is_list = types[column].endswith("[]")
        text = f"array_to_string(t.{_q(column)}, '|')" if is_list else f"cast(t.{_q(column)} as varchar)"
        source = f"{schema}.{_q(table)}"
        token_re = _lit(TOKEN_SQL)
        hits = con.execute(
            f"""with toks as (
                    select t.rowid as rid, {ent} as enterprise_id,
                           unnest(regexp_extract_all({text}, {token_re})) as tok
                    from {source} t where t.{_q(column)} is not null),
                cand as (
                    select rid, enterprise_id, tok as token from toks
                    union select rid, enterprise_id, rtrim(tok, {_lit(TRAILING)}) from toks),
                matched as (
                    select cand.rid, k.* from cand
                    join known_ids k on k.enterprise_id = cand.enterprise_id and k.token = cand.token
                    union all
                    select cand.rid, k.* from cand
                    join known_ids k on k.enterprise_id = {_lit(ANY_ENTERPRISE)} and k.token = cand.token)
                select rid, enterprise_id = {_lit(ANY_ENTERPRISE)} as fallback, token,
                       case kind when 'party' then {self.pseudo("party", "enterprise_id", "src")}
                                 when 'account' then {self.pseudo("account", "enterprise_id", "src")}
                                 else {_lit(WITHHELD)} end
                from matched"""
        ).fetchall()
        if not hits:
            return
        mapping: dict[int, dict[str, str]] = {}
        for rid, _fallback, token, pseudonym in sorted(hits, key=lambda h: not h[1]):
            mapping.setdefault(rid, {})[token] = pseudonym  # the row's own enterprise wins over a fallback
        rows = con.execute(
            f"select t.rowid, t.{_q(column)} from {source} t where t.rowid in (select unnest(?))",
            [list(mapping)],
        ).fetchall()
        fixed_ids, fixed_values = [], []
        for rid, value in rows:
            sub = _replacer(mapping[rid])
            fixed_ids.append(rid)
            fixed_values.append([sub(v) if v is not None else None for v in value] if is_list else sub(value))
        _update_by_rowid(con, source, column, types[column], fixed_ids, fixed_values)

    def _realias_alerts(self) -> None:
        """alert_id hashes the dimension value: recompute it over the pseudonym (the dbt formula,
        md5 of the '|'-joined key) where the dimension is an id, and follow in fct_risk_scores.alert_ids."""
        con = self.con
        if "fct_alerts" not in _tables(con, self.main, "marts"):
            return
        dims = ", ".join(_lit(d) for d in ID_DIMENSIONS)
        changed = con.execute(
            f"""select alert_id, md5(enterprise_id || '|' || period || '|' || indicator_id || '|' || metric
                   || '|' || coalesce(dimension, '') || '|' || coalesce(dimension_value, ''))
                from marts.fct_alerts where dimension in ({dims})"""
        ).fetchall()
        mapping = {old: new for old, new in changed if old != new}
        if not mapping:
            return
        con.execute(
            "update marts.fct_alerts as t set alert_id = m.new "
            "from (select unnest(?::varchar[]) as old, unnest(?::varchar[]) as new) m where t.alert_id = m.old",
            [list(mapping), list(mapping.values())],
        )
        if "fct_risk_scores" in _tables(con, self.main, "marts"):
            rows = con.execute(
                "select rowid, alert_ids from marts.fct_risk_scores where alert_ids is not null"
            ).fetchall()
            ids = [rid for rid, _ in rows]
            values = [" ".join(mapping.get(a, a) for a in alert_ids.split(" ")) for _, alert_ids in rows]
            _update_by_rowid(con, "marts.fct_risk_scores", "alert_ids", "VARCHAR", ids, values)


def _update_by_rowid(
    con: duckdb.DuckDBPyConnection, source: str, column: str, sql_type: str, ids: list[int], values: list
) -> None:
    """Set `column` of the rows with these rowids (lists bound as parameters: no pandas, no Arrow)."""
    value_list = f"{sql_type}[]"
    con.execute(
        f"update {source} as t set {_q(column)} = f.v "
        f"from (select unnest(?::bigint[]) as rid, unnest(?::{value_list}) as v) f where t.rowid = f.rid",
        [ids, values],
    )


def _replacer(tokens: dict[str, str]) -> Callable[[str], str]:
    def one(match: re.Match) -> str:
        tok = match.group(0)
        if tok in tokens:
            return tokens[tok]
        bare = tok.rstrip(TRAILING)
        return tokens[bare] + tok[len(bare) :] if bare in tokens else tok

    return lambda text: TOKEN_RE.sub(one, text)


def build_analyst(home: Home, tmp: Path, key: bytes, meta: dict) -> None:
    con = duckdb.connect(str(tmp))
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        live = str(home.warehouse).replace("'", "''")
        con.execute(f"attach '{live}' as wh (read_only)")
        try:
            AnalystBuilder(con, key).build()
        finally:
            con.execute("detach wh")
        write_meta_table(con, "analyst", meta)
        con.execute("checkpoint")
    finally:
        con.close()


def _checkpoint_leftover_wal(home: Home) -> None:
    """A WAL beside the live file (a writer that did not checkpoint) would be missing from a copy."""
    wal = home.warehouse.with_name(home.warehouse.name + ".wal")
    if wal.exists():
        con = duckdb.connect(str(home.warehouse))
        try:
            con.execute("checkpoint")
        finally:
            con.close()


def publish(home: Home, as_of: datetime | None = None) -> dict[str, Path]:
    """Record the publication in the audit log, build both files, swap them in. Returns kind -> path."""
    home.published.mkdir(parents=True, exist_ok=True)
    key = load_key(home)
    kid = key_id(key)
    now = datetime.now(UTC)
    _checkpoint_leftover_wal(home)
    head_seq, head_hash = record_publication(home, as_of or now, kid)
    meta = {
        "published_at": now,
        "as_of": as_of or now,
        "head_seq": head_seq,
        "head_hash": head_hash,
        "key_id": kid,
    }
    for stale in (
        *home.published.glob("*.tmp-*"),
        *(home.published / auditor_slots.SLOTS_DIR).glob("*.tmp-*"),
    ):  # left by a publish that was killed
        stale.unlink(missing_ok=True)
    slot = auditor_slots.inactive_slot(home)
    update = auditor_slots.update_slot(home, slot, lambda con: write_meta_table(con, "auditor", meta), _fsync)
    os.chmod(slot, MODES["auditor"])
    tmp = snapshot_path(home, "analyst").with_name(f"{SNAPSHOT_NAMES['analyst']}.tmp-{os.getpid()}")
    try:
        build_analyst(home, tmp, key, meta)
        os.chmod(tmp, MODES["analyst"])
        _fsync(tmp)
    except BaseException:
        for p in (tmp, tmp.with_name(tmp.name + ".wal")):
            p.unlink(missing_ok=True)
        raise
    os.replace(tmp, snapshot_path(home, "analyst"))
    auditor_slots.point_to(home, update.slot)
    _fsync(home.published)  # the rename and the pointer survive a crash
    return {kind: snapshot_path(home, kind) for kind in SNAPSHOT_NAMES}
