"""DDL of the warehouse's own schemas (raw, intake, quality), derived from the contracts.

raw.<filing_type>      every delivered row of every loaded version, append-only, tagged with submission_id
intake.submissions     one row per submission_id (its latest state)
intake.deliveries      one row per delivery of a package (re-drops included)
intake.files           the manifest's file entries per submission
intake.submission_events  every status change, kept forever
intake.audit_log       every intake action, hash-chained (pipelines/intake/audit.py)
intake.acknowledgements  warnings acknowledged by the filer, with the reason
intake.version_diffs   per new version and filing type: rows added/removed/changed, control totals moved
intake.version_diff_fields  per changed column: count and example record keys
quality.findings       one row per failing record per rule per attempt (capped; true counts in rule_results)
quality.rule_results   per submission and rule: PASS, FAIL or SKIPPED with the true finding count
meta.schema_version    one row per schema version applied (pipelines/warehouse/migrations.py)
"""

from __future__ import annotations

import duckdb

from pipelines.contracts import load_contracts
from pipelines.warehouse import migrations

RAW_META_COLUMNS = {"submission_id": "VARCHAR NOT NULL", "_row": "BIGINT NOT NULL"}

INTAKE_DDL = """
create schema if not exists intake;
create table if not exists intake.submissions (
    submission_id   varchar primary key,
    enterprise_id   varchar,
    ent_type        varchar,
    period          varchar,          -- YYYY-MM
    version         integer,
    supersedes      varchar,
    spec_version    varchar,
    submitted_at    timestamptz,      -- the filer's own statement
    received_at     timestamptz not null,  -- first time the intake saw it complete (or manifest mtime on backfill)
    due_at          timestamptz,
    identity        varchar,          -- sha256 over manifest bytes + each file's sha256
    status          varchar not null,
    status_reason   varchar,
    status_at       timestamptz not null,
    archive_path    varchar,
    manifest        json
);
create table if not exists intake.deliveries (
    submission_id   varchar not null,
    delivery_n      integer not null,
    identity        varchar,
    received_at     timestamptz not null,
    outcome         varchar not null,  -- the status this delivery led to, or DUPLICATE
    archive_path    varchar not null,
    primary key (submission_id, delivery_n)
);
create table if not exists intake.files (
    submission_id   varchar not null,
    filing_type     varchar not null,
    path            varchar not null,
    format          varchar,
    compression     varchar,
    encoding        varchar,
    sha256          varchar,
    bytes           bigint,
    row_count       bigint,
    control_totals  json,
    primary key (submission_id, filing_type)
);
create sequence if not exists intake.event_seq;
create table if not exists intake.submission_events (
    event_id        bigint primary key default nextval('intake.event_seq'),
    submission_id   varchar not null,
    status          varchar not null,  -- RECEIVED, MALFORMED, REJECTED, ACCEPTED, ACCEPTED_WITH_WARNINGS, SUPERSEDED, DUPLICATE
    event_at        timestamptz not null,
    reason          varchar,
    details         json
);
create table if not exists intake.audit_log (
    seq             bigint primary key,  -- 1, 2, 3, ... without gaps
    "at"            timestamptz not null,  -- quoted: AT is a keyword
    action          varchar not null,    -- received, verified, loaded, malformed, rejected, accepted, ...
    submission_id   varchar,
    actor           varchar not null,
    detail          json,
    prev_hash       varchar not null,    -- the previous entry's hash ('' for seq 1)
    hash            varchar not null     -- sha256 of the canonical entry (pipelines/intake/audit.py)
);
create table if not exists intake.acknowledgements (
    submission_id   varchar not null,
    rule_id         varchar not null,
    reason          varchar not null,
    acknowledged_by varchar not null,
    acknowledged_at timestamptz not null
);
create table if not exists intake.version_diffs (
    submission_id       varchar not null,  -- the newer version
    base_submission_id  varchar not null,  -- the version that was current when it was received
    filing_type         varchar not null,
    rows_old            bigint not null,
    rows_new            bigint not null,
    rows_added          bigint not null,
    rows_removed        bigint not null,
    rows_changed        bigint not null,
    control_totals      json,              -- {field: {"old": .., "new": .., "rel_change": ..}}
    computed_at         timestamptz not null,
    primary key (submission_id, base_submission_id, filing_type)
);
create table if not exists intake.version_diff_fields (
    submission_id       varchar not null,
    base_submission_id  varchar not null,
    filing_type         varchar not null,
    column_name         varchar not null,
    rows_changed        bigint not null,
    example_keys        varchar[],         -- up to 5 record keys
    primary key (submission_id, base_submission_id, filing_type, column_name)
);
"""

QUALITY_DDL = """
create schema if not exists quality;
create sequence if not exists quality.finding_seq;
create table if not exists quality.findings (
    finding_id      bigint primary key default nextval('quality.finding_seq'),
    submission_id   varchar not null,
    attempt         integer not null default 1,  -- the delivery that was checked
    rule_id         varchar not null,
    stage           varchar not null,   -- S, V, Q, M
    severity        varchar not null,   -- error, warning
    filing_type     varchar,
    row_number      bigint,             -- data row number in the delivered file (1 = first row after the header)
    record_key      varchar,
    fields          json,               -- [{"field": ..., "value": ...}, ...]
    message         varchar not null,
    shadow          boolean not null default false,
    found_at        timestamptz not null
);
create table if not exists quality.rule_results (
    submission_id   varchar not null,
    attempt         integer not null default 1,
    rule_id         varchar not null,
    status          varchar not null,   -- PASS, FAIL, SKIPPED
    finding_count   bigint not null,    -- the true count, findings may be capped
    evaluated_at    timestamptz not null,
    detail          varchar
);
"""


def raw_table_ddl(filing_type: str) -> str:
    contract = load_contracts()[filing_type]
    cols = [f"{name} {ddl}" for name, ddl in RAW_META_COLUMNS.items()]
    cols += [f"{c.name} {c.duckdb_type}" for c in contract.columns]
    return f"create table if not exists raw.{filing_type} (\n    " + ",\n    ".join(cols) + "\n);"


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(INTAKE_DDL)
    con.execute(QUALITY_DDL)
    con.execute("create schema if not exists raw")
    for ft in load_contracts():
        con.execute(raw_table_ddl(ft))


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Bring the warehouse to this code's schema: create it (empty file), upgrade it in place (a file from
    an earlier version: pipelines/warehouse/migrations.py), or refuse it (a newer version's file). Then
    create every table that does not exist yet (idempotent: a filing type added to the contracts)."""
    con.execute("set TimeZone = 'UTC'")
    version = migrations.current_version(con)
    migrations.refuse_newer(con, version)
    if version is None:
        con.execute("begin transaction")  # a kill in between must not leave a "version 0" file
        try:
            _create_tables(con)
            migrations.record_created(con)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    elif version < migrations.latest():
        migrations.upgrade(con, version, lambda: _create_tables(con))
    _create_tables(con)
