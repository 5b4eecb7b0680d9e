"""Keyed pseudonyms for party and account identifiers in the analysts' snapshot.

pseudonym = prefix + the first 16 hex characters of HMAC-SHA256(key, "<kind>\\x1f<enterprise_id>\\x1f<id>"),
prefix `P-` for parties, `A-` for accounts. Identifiers are only unique within one enterprise, so the
enterprise is part of the message: the same party of the same enterprise keeps its pseudonym from one
publication to the next (same key), and nothing links parties across enterprises. The key comes from
$SUPTECH_PSEUDONYM_KEY (64 hex characters, or any text of 32+ bytes), else <home>/keys/pseudonym.key
(created on first use: 32 random bytes as hex, file mode 0600 in a 0700 folder). The same HMAC runs as
SQL (`sql_hmac`) so that millions of identifiers are pseudonymised inside DuckDB.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from pipelines.home import Home

KEY_ENV = "SUPTECH_PSEUDONYM_KEY"
PREFIX = {"party": "P-", "account": "A-"}
HEX_CHARS = 16
SEP = "\x1f"


def key_file(home: Home) -> Path:
    return home.root / "keys" / "pseudonym.key"


def _parse(text: str, source: str) -> bytes:
    text = text.strip()
    try:
        key = bytes.fromhex(text) if len(text) == 64 else text.encode("utf-8")
    except ValueError:
        key = text.encode("utf-8")
    if len(key) < 32:
        raise ValueError(f"pseudonym key from {source} is shorter than 32 bytes: give 64 hex characters")
    return key


def load_key(home: Home) -> bytes:
    """The pseudonym key: $SUPTECH_PSEUDONYM_KEY, else the key file (created with mode 0600 if missing)."""
    env = os.environ.get(KEY_ENV)
    if env:
        return _parse(env, f"${KEY_ENV}")
    path = key_file(home)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _parse(path.read_text(encoding="ascii"), str(path))
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return _parse(path.read_text(encoding="ascii"), str(path))


def key_id(key: bytes) -> str:
    """A fingerprint naming the key (recorded in meta.publication); does not reveal the key."""
    return hashlib.sha256(b"suptech-pseudonym-key-id" + SEP.encode() + key).hexdigest()[:16]


def pseudonym(key: bytes, kind: str, enterprise_id: str, raw_id: str) -> str:
    msg = SEP.join((kind, enterprise_id, raw_id)).encode("utf-8")
    return PREFIX[kind] + hmac.new(key, msg, hashlib.sha256).hexdigest()[:HEX_CHARS]


@dataclass(frozen=True)
class SqlHmac:
    """HMAC-SHA256 as a DuckDB expression: sha256(opad || unhex(sha256(ipad || message)))."""

    ipad: bytes
    opad: bytes

    @classmethod
    def of(cls, key: bytes) -> SqlHmac:
        block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
        return cls(bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block))

    def expr(self, kind: str, enterprise_sql: str, id_sql: str) -> str:
        """SQL for the pseudonym of id_sql (null stays null). The pads are inlined: the SQL holds key material,
        never log it."""
        msg = f"'{kind}' || chr(31) || {enterprise_sql} || chr(31) || {id_sql}"
        digest = f"sha256(unhex('{self.opad.hex()}') || unhex(sha256(unhex('{self.ipad.hex()}') || encode({msg}))))"
        return f"case when {id_sql} is not null then '{PREFIX[kind]}' || left({digest}, {HEX_CHARS}) end"
