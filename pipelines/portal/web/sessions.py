"""Portal sign-in sessions: a random session id in a signed, HttpOnly, SameSite=Strict cookie.

- The cookie holds `<session id>` signed with itsdangerous (key `<home>/portal/session.key`, 32 random bytes,
  mode 0600, made on first use); only the id's SHA-256 is stored (table `sessions` of the portal store), with
  the user, its CSRF token and its expiry. Signing refuses a forged cookie before any look-up.
- Each request looks the session and its user up: a signed-out session, an expired one (SESSION_HOURS) or a
  disabled user ends at once.
- CSRF: every form carries the session's token in a hidden field `csrf`; a POST without it or with another
  one is refused (403). The sign-in form gets its own token from a short-lived signed cookie, so a page on
  another site cannot sign a victim in as someone else (login CSRF).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, Signer, TimestampSigner

from pipelines.home import Home
from pipelines.portal import connect_store, portal_dir
from pipelines.portal.users import User, UserStore

COOKIE = "suptech_session"
LOGIN_COOKIE = "suptech_login"
SESSION_HOURS = 8
LOGIN_FORM_SECONDS = 3600
KEY_FILE = "session.key"

SESSIONS_SCHEMA = """
create table if not exists sessions (
    session_sha256  text primary key,       -- sha256 of the session id; the id itself is never stored
    username        text not null references users(username),
    csrf            text not null,
    created_at      text not null,
    expires_at      text not null,
    ended_at        text
);
"""


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    digest: str


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def session_key(home: Home) -> bytes:
    """The cookie-signing key: $SUPTECH_SESSION_KEY, else <home>/portal/session.key (made once, 0600)."""
    env = os.environ.get("SUPTECH_SESSION_KEY")
    if env:
        return env.encode("utf-8")
    path = portal_dir(home) / KEY_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_hex(32).encode())
        finally:
            os.close(fd)
    return path.read_bytes().strip()


class Sessions:
    def __init__(self, home: Home, store: UserStore):
        self.home = home
        self.store = store
        key = session_key(home)
        self.signer = Signer(key, salt="suptech-session")
        self.login_signer = TimestampSigner(key, salt="suptech-login-form")

    def _con(self) -> sqlite3.Connection:
        con = connect_store(self.home)
        con.executescript(SESSIONS_SCHEMA)
        return con

    # --- sessions ---------------------------------------------------------------------------------------

    def start(self, user: User) -> tuple[str, Session]:
        """A new session for a signed-in user: (cookie value, session)."""
        sid = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        digest = hashlib.sha256(sid.encode()).hexdigest()
        now = datetime.now(UTC)
        con = self._con()
        try:
            con.execute(
                "insert into sessions values (?, ?, ?, ?, ?, null)",
                [digest, user.username, csrf, _stamp(now), _stamp(now + timedelta(hours=SESSION_HOURS))],
            )
        finally:
            con.close()
        return self.signer.sign(sid.encode()).decode(), Session(user, csrf, digest)

    def load(self, cookie: str | None) -> Session | None:
        if not cookie or len(cookie) > 512:
            return None
        try:
            sid = self.signer.unsign(cookie.encode()).decode()
        except (BadSignature, UnicodeDecodeError):
            return None
        digest = hashlib.sha256(sid.encode()).hexdigest()
        con = self._con()
        try:
            row = con.execute(
                "select username, csrf, expires_at from sessions where session_sha256 = ? and ended_at is null",
                [digest],
            ).fetchone()
        finally:
            con.close()
        if row is None or datetime.fromisoformat(row[2]) <= datetime.now(UTC):
            return None
        user = self.store.get(row[0])
        if user is None or user.disabled:
            return None
        return Session(user, row[1], digest)

    def end(self, session: Session) -> None:
        con = self._con()
        try:
            con.execute(
                "update sessions set ended_at = ? where session_sha256 = ?",
                [_stamp(datetime.now(UTC)), session.digest],
            )
        finally:
            con.close()

    # --- the sign-in form's CSRF token ------------------------------------------------------------------

    def login_token(self, cookie: str | None = None) -> tuple[str, str]:
        """(cookie value, form token) for the sign-in form: the browser's current one while it is valid (a
        second tab or a background request to /login must not invalidate the form already shown)."""
        if cookie:
            try:
                token = self.login_signer.unsign(cookie.encode(), max_age=LOGIN_FORM_SECONDS // 2).decode()
                return cookie, token
            except (BadSignature, UnicodeDecodeError):
                pass
        token = secrets.token_urlsafe(24)
        return self.login_signer.sign(token.encode()).decode(), token

    def check_login_token(self, cookie: str | None, form_token: str | None) -> bool:
        if not cookie or not form_token:
            return False
        try:
            token = self.login_signer.unsign(cookie.encode(), max_age=LOGIN_FORM_SECONDS).decode()
        except (BadSignature, UnicodeDecodeError):
            return False
        return hmac.compare_digest(token, form_token)


def same_token(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), str(given).encode())
