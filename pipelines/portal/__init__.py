"""The filing API and (later) the portal: users and roles, the access log, uploads and queued writes.

Everything here lives beside the warehouse, never in it: users, tokens and the access log are in
`<home>/portal/users.db` (SQLite), uploads are staged in `<home>/staging/` and moved into the landing
area, and writes meant for the warehouse (acknowledgements) wait in `<home>/queue/` for the next cycle.
So the API reads only published snapshots and files and never waits for the writer (docs/filing-api.md).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pipelines.home import Home

PORTAL_DIR = "portal"
STORE_NAME = "users.db"


def portal_dir(home: Home) -> Path:
    """<home>/portal/, created mode 0700 (it holds password hashes and the access log)."""
    path = home.root / PORTAL_DIR
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def store_path(home: Home) -> Path:
    return portal_dir(home) / STORE_NAME


STORE_SCHEMA = """
create table if not exists users (
    username        text primary key,
    role            text not null,          -- regulator, analyst, auditor, filer
    enterprise_id   text,                   -- the filer's enterprise; null for the other roles
    password_hash   text not null,          -- argon2id
    disabled        integer not null default 0,
    created_at      text not null
);
create table if not exists tokens (
    token_sha256    text primary key,       -- sha256 of the token text; the token itself is never stored
    username        text not null references users(username),
    created_at      text not null,
    revoked_at      text
);
create table if not exists login_failures (
    username        text not null,
    at              text not null
);
create table if not exists access_log (
    seq             integer primary key,    -- 1, 2, 3, ... without gaps
    at              text not null,          -- UTC, ISO 8601 with microseconds
    action          text not null,          -- sign_in, upload, list, read, download, acknowledge, query, ...
    target          text,                   -- the object acted on (a submission id, a report file, ...)
    username        text not null,
    role            text not null,
    detail          text,                   -- canonical JSON
    prev_hash       text not null,
    hash            text not null
);
"""


def connect_store(home: Home) -> sqlite3.Connection:
    """A connection to the portal store (autocommit; callers open their own transactions).

    WAL mode, so readers never wait for a writer; a busy writer is waited for at most 10 s."""
    path = store_path(home)
    con = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
    try:
        con.execute("pragma journal_mode = wal")
        con.execute("pragma synchronous = full")
        con.execute("pragma foreign_keys = on")
        con.executescript(STORE_SCHEMA)
    except BaseException:
        con.close()
        raise
    path.chmod(0o600)
    return con
