"""Users, roles and API tokens of the filing API and portal (`<home>/portal/users.db`, never the warehouse).

- Roles: regulator, analyst, auditor, filer. A filer is bound to exactly one enterprise; the others to none.
- Passwords are stored as argon2id hashes (argon2-cffi's defaults); a generated password is shown once.
- An API token is 32 random bytes (URL-safe text), shown once; only its SHA-256 is stored, so a copy of
  the store does not hand out working tokens. `reset_token` revokes every earlier token of the user.
- A disabled user's password and tokens stop working at once (every request looks the user up).
- Sign-in throttling: after MAX_FAILURES failed passwords within THROTTLE_WINDOW, a user's password is
  refused until the window has passed since the latest failure (a correct password included).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pipelines.home import Home
from pipelines.portal import connect_store

ROLES = ("regulator", "analyst", "auditor", "filer")
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
ENTERPRISE_ID = re.compile(r"^(?:PAY|P2P|CF|WM)[0-9]{4}$")
TOKEN_BYTES = 32
MAX_FAILURES = 5
THROTTLE_WINDOW = timedelta(minutes=15)

_hasher = PasswordHasher()


class UserError(ValueError):
    """A request on the user store that cannot be done; the message says why and what to do."""


class LoginThrottled(UserError):
    """Too many failed passwords: the user must wait before trying again."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    enterprise_id: str | None
    disabled: bool
    created_at: str

    def as_dict(self) -> dict[str, object]:
        return {
            "username": self.username,
            "role": self.role,
            "enterprise_id": self.enterprise_id,
            "disabled": self.disabled,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class Credentials:
    """What `add` returns: shown to the operator once, never stored in clear."""

    user: User
    password: str | None  # None when the operator gave the password
    token: str


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _user(row: tuple) -> User:
    return User(row[0], row[1], row[2], bool(row[3]), row[4])


_USER_COLUMNS = "username, role, enterprise_id, disabled, created_at"


class UserStore:
    """The user store of one home. Each call opens and closes its own short connection (thread-safe)."""

    def __init__(self, home: Home):
        self.home = home

    @contextmanager
    def _connect(self) -> Iterator:
        con = connect_store(self.home)
        try:
            yield con
        finally:
            con.close()

    # --- managing users (the `suptech users` CLI) ---------------------------------------------------

    def add(
        self, username: str, role: str, enterprise_id: str | None = None, password: str | None = None
    ) -> Credentials:
        if not USERNAME.match(username):
            raise UserError(
                f"username {username!r} is not allowed: 1-64 characters, letters, digits and . _ @ -, "
                "starting with a letter or digit"
            )
        if role not in ROLES:
            raise UserError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
        if role == "filer":
            if not enterprise_id or not ENTERPRISE_ID.match(enterprise_id):
                raise UserError(
                    "a filer is bound to one enterprise: give --enterprise with its id (e.g. PAY0007)"
                )
        elif enterprise_id:
            raise UserError(f"only filers are bound to an enterprise: drop --enterprise for role {role}")
        generated = None
        if password is None:
            generated = password = secrets.token_urlsafe(18)
        elif len(password) < 12:
            raise UserError("the password is shorter than 12 characters: choose a longer one")
        token = new_token()
        now = _stamp(_now())
        with self._connect() as con:
            con.execute("begin immediate")
            try:
                if con.execute("select 1 from users where username = ?", [username]).fetchone():
                    raise UserError(
                        f"user {username} exists already: pick another name, or `suptech users reset-token`"
                    )
                con.execute(
                    "insert into users values (?, ?, ?, ?, 0, ?)",
                    [username, role, enterprise_id or None, _hasher.hash(password), now],
                )
                con.execute("insert into tokens values (?, ?, ?, null)", [token_digest(token), username, now])
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise
        return Credentials(User(username, role, enterprise_id or None, False, now), generated, token)

    def list(self) -> list[User]:
        with self._connect() as con:
            rows = con.execute(f"select {_USER_COLUMNS} from users order by username").fetchall()
        return [_user(r) for r in rows]

    def get(self, username: str) -> User | None:
        with self._connect() as con:
            row = con.execute(f"select {_USER_COLUMNS} from users where username = ?", [username]).fetchone()
        return _user(row) if row else None

    def _require(self, con: sqlite3.Connection, username: str) -> None:
        if not con.execute("select 1 from users where username = ?", [username]).fetchone():
            raise UserError(f"no user {username}: see `suptech users list`")

    def disable(self, username: str) -> None:
        """Disable the user and revoke its tokens (kept for the record, never valid again)."""
        with self._connect() as con:
            con.execute("begin immediate")
            try:
                self._require(con, username)
                con.execute("update users set disabled = 1 where username = ?", [username])
                con.execute(
                    "update tokens set revoked_at = ? where username = ? and revoked_at is null",
                    [_stamp(_now()), username],
                )
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise

    def reset_token(self, username: str) -> str:
        """Revoke every token of the user and issue a new one (returned once)."""
        token = new_token()
        now = _stamp(_now())
        with self._connect() as con:
            con.execute("begin immediate")
            try:
                self._require(con, username)
                con.execute(
                    "update tokens set revoked_at = ? where username = ? and revoked_at is null",
                    [now, username],
                )
                con.execute("insert into tokens values (?, ?, ?, null)", [token_digest(token), username, now])
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise
        return token

    # --- authentication -----------------------------------------------------------------------------

    def authenticate_token(self, token: str) -> User | None:
        """The enabled user holding this unrevoked token, else None."""
        if not token or len(token) > 256:
            return None
        with self._connect() as con:
            row = con.execute(
                f"""select {", ".join("u." + c.strip() for c in _USER_COLUMNS.split(","))}
                    from tokens t join users u using (username)
                    where t.token_sha256 = ? and t.revoked_at is null and u.disabled = 0""",
                [token_digest(token)],
            ).fetchone()
        return _user(row) if row else None

    def check_password(self, username: str, password: str, at: datetime | None = None) -> User | None:
        """The enabled user if the password is right, else None; LoginThrottled after too many failures.

        An unknown user costs the same argon2 work as a known one (no user enumeration by timing)."""
        at = at or _now()
        since = _stamp(at - THROTTLE_WINDOW)
        with self._connect() as con:
            failures = con.execute(
                "select count(*), max(at) from login_failures where username = ? and at > ?",
                [username, since],
            ).fetchone()
            if failures[0] >= MAX_FAILURES:
                until = datetime.fromisoformat(failures[1]) + THROTTLE_WINDOW
                raise LoginThrottled(
                    f"too many failed sign-ins for {username}: try again after {until.isoformat(timespec='seconds')}"
                )
            row = con.execute(
                f"select {_USER_COLUMNS}, password_hash from users where username = ?", [username]
            ).fetchone()
            stored = row[5] if row else _dummy_hash()
            try:
                ok = _hasher.verify(stored, password) and row is not None and not row[3]
            except (VerificationError, InvalidHashError):
                ok = False
            if not ok:
                con.execute("insert into login_failures values (?, ?)", [username, _stamp(at)])
                return None
            con.execute("delete from login_failures where username = ?", [username])
        return _user(row[:5])


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(18))
