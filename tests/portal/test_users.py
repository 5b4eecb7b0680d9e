"""Users, roles and tokens: the `suptech users` CLI, hashed secrets, throttling, disabled users, roles."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from pipelines.cli import cli
from pipelines.home import Home
from pipelines.portal import store_path
from pipelines.portal.api import create_app
from pipelines.portal.users import MAX_FAILURES, LoginThrottled, UserError, UserStore
from tests.portal.helpers import bearer


@pytest.fixture
def home(tmp_path) -> Home:
    return Home.resolve(tmp_path / "home").ensure()


def _cli(home: Home, *args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, ["users", *args, "--home", str(home.root)], input=stdin)


def _store_bytes(home: Home) -> bytes:
    folder = store_path(home).parent
    return b"".join(p.read_bytes() for p in sorted(folder.glob("users.db*")))


def test_cli_add_list_disable_reset(home: Home) -> None:
    res = _cli(home, "add", "pay7-system", "--role", "filer", "--enterprise", "PAY0007", "--json")
    assert res.exit_code == 0, res.output
    creds = json.loads(res.output)
    token, password = creds["token"], creds["password"]
    assert creds["enterprise_id"] == "PAY0007" and len(token) >= 43 and len(password) >= 20
    # secrets are stored only as hashes: neither appears in the store's bytes (WAL included)
    data = _store_bytes(home)
    assert token.encode() not in data and password.encode() not in data
    import sqlite3

    con = sqlite3.connect(store_path(home))
    (stored,) = con.execute("select password_hash from users where username = 'pay7-system'").fetchone()
    con.close()
    assert stored.startswith("$argon2id$")
    listed = _cli(home, "list", "--json")
    assert json.loads(listed.output) == [
        {k: creds[k] for k in ("username", "role", "enterprise_id", "disabled", "created_at")}
    ]
    assert token not in listed.output and "argon2" not in listed.output

    client = TestClient(create_app(home))
    assert client.get("/api/v1/submissions", headers=bearer(token)).status_code == 200
    reset = _cli(home, "reset-token", "pay7-system")
    assert reset.exit_code == 0
    new = reset.output.split("token: ")[1].split()[0]
    assert client.get("/api/v1/submissions", headers=bearer(token)).status_code == 401
    assert client.get("/api/v1/submissions", headers=bearer(new)).status_code == 200
    assert _cli(home, "disable", "pay7-system").exit_code == 0
    res = client.get("/api/v1/submissions", headers=bearer(new))
    assert res.status_code == 401 and "disabled" in res.json()["detail"]
    assert res.headers["www-authenticate"].startswith("Bearer")
    assert UserStore(home).check_password("pay7-system", password) is None


def test_cli_refusals(home: Home) -> None:
    res = _cli(home, "add", "f", "--role", "filer")
    assert res.exit_code == 1 and "a filer is bound to one enterprise" in res.output
    res = _cli(home, "add", "r", "--role", "regulator", "--enterprise", "PAY0001")
    assert res.exit_code == 1 and "only filers are bound to an enterprise" in res.output
    assert _cli(home, "add", "a1", "--role", "analyst").exit_code == 0
    res = _cli(home, "add", "a1", "--role", "analyst")
    assert res.exit_code == 1 and "exists already" in res.output
    assert _cli(home, "disable", "nobody").exit_code == 1
    res = _cli(home, "add", "bad/name", "--role", "auditor")
    assert res.exit_code == 1 and "is not allowed" in res.output


def test_password_stdin_argon2_and_throttling(home: Home) -> None:
    res = _cli(
        home, "add", "li.wei", "--role", "regulator", "--password-stdin", stdin="correct horse battery\n"
    )
    assert res.exit_code == 0 and "password:" not in res.output
    store = UserStore(home)
    assert store.check_password("li.wei", "correct horse battery").role == "regulator"
    t0 = datetime.now(UTC)
    for _ in range(MAX_FAILURES):
        assert store.check_password("li.wei", "wrong", at=t0) is None
    with pytest.raises(LoginThrottled, match="too many failed sign-ins"):
        store.check_password("li.wei", "correct horse battery", at=t0)
    later = t0 + timedelta(minutes=16)
    assert store.check_password("li.wei", "correct horse battery", at=later) is not None
    assert store.check_password("nobody", "x") is None  # unknown user: same answer
    with pytest.raises(UserError, match="shorter than 12"):
        store.add("short", "auditor", password="abc")


def test_roles_on_the_filing_api(home: Home) -> None:
    store = UserStore(home)
    client = TestClient(create_app(home))
    analyst = store.add("ana", "analyst").token
    res = client.get("/api/v1/submissions", headers=bearer(analyst))
    assert res.status_code == 403 and "role analyst has no access" in res.json()["detail"]
    for role in ("regulator", "auditor"):
        assert (
            client.get("/api/v1/submissions", headers=bearer(store.add(role, role).token)).status_code == 200
        )
    assert client.get("/api/v1/submissions", headers=bearer("x" * 43)).status_code == 401
    assert client.get("/api/v1/submissions", headers={"Authorization": "Basic abc"}).status_code == 401
