"""One portal home for the web tests (test_web.py, then the browser journeys of test_web_browser.py).

Built once per test session by one backfill cycle over the spec's two examples, at a clock after the close
of 2026-11, so both enterprises are *missing* for 2026-11. PAY0001's complaint `issue` is a `<script>`
payload (a filed text field). One alert is planted (PAY0001 RES-001 2026-10 in breach, with its indicator
rows in breach) so the analyst has evidence rows to reach, and one ranked AML party (PAY0001 2026-10). Users: one per role, filer-a for PAY0001 and
filer-b for P2P0001, all with PASSWORD.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipelines.cycle import run_cycle
from pipelines.home import Home
from pipelines.portal.api import create_app
from pipelines.portal.users import UserStore
from pipelines.warehouse.db import connect_writer, publish_snapshot, writer_lock
from tests.support import copy_example, drop_package, example_packages, refresh_manifest

AS_OF = datetime(2027, 1, 5, tzinfo=UTC)  # after 2026-11 closed (due 10 Dec + 20 days)
PASSWORD = "portal-test-password-1"
PAYLOAD = "<script>alert('xss')</script>"
ALERT_ID = "ALERT-TEST-RES-001"
PAY, P2P = "PAY0001-2026-10-v1", "P2P0001-2026-10-v1"
USERS = {
    "filer-a": ("filer", "PAY0001"),
    "filer-b": ("filer", "P2P0001"),
    "ana": ("analyst", None),
    "aud": ("auditor", None),
    "reg": ("regulator", None),
}


@dataclass
class PortalWorld:
    home: Home
    tokens: dict[str, str]

    def client(self, username: str | None = None) -> TestClient:
        """A TestClient (redirects not followed), signed in as `username` if given."""
        client = TestClient(create_app(self.home), follow_redirects=False)
        if username:
            login(client, username)
        return client


def login_csrf(client: TestClient) -> str:
    res = client.get("/login")
    assert res.status_code == 200, res.text
    return re.search(r'name="csrf" value="([^"]+)"', res.text).group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    res = client.post("/login", data={"username": username, "password": password, "csrf": login_csrf(client)})
    assert res.status_code == 303, (res.status_code, res.text[:500])


def csrf_of(client: TestClient, page: str) -> str:
    res = client.get(page)
    assert res.status_code == 200, (page, res.status_code)
    return re.search(r'name="csrf" value="([^"]+)"', res.text).group(1)


@pytest.fixture(scope="session")
def portal_world(tmp_path_factory: pytest.TempPathFactory) -> PortalWorld:
    """SUPTECH_PORTAL_TEST_CACHE=<dir> (local iterations only; CI leaves it unset): the built home is kept in
    <dir> and copied for each session (the browser journeys change it); `rm -rf <dir>` after changing the
    pipeline."""
    root = tmp_path_factory.mktemp("portal")
    cache = os.environ.get("SUPTECH_PORTAL_TEST_CACHE")
    if cache and (Path(cache) / "tokens.json").is_file():
        shutil.copytree(Path(cache) / "home", root / "home", symlinks=True)
        tokens = json.loads((Path(cache) / "tokens.json").read_text())
        return PortalWorld(Home.resolve(root / "home"), tokens)
    world = _build(root)
    if cache:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.copytree(world.home.root, Path(cache) / "home", symlinks=True)
        (Path(cache) / "tokens.json").write_text(json.dumps(world.tokens))
    return world


def _build(root: Path) -> PortalWorld:
    home = Home.resolve(root / "home").ensure()
    pay = copy_example(PAY, root / "src")
    complaints = pay / "complaints.csv"
    complaints.write_text(
        complaints.read_text(encoding="utf-8").replace("payment not received by merchant", PAYLOAD),
        encoding="utf-8",
    )
    refresh_manifest(pay)
    drop_package(pay, home.landing)
    drop_package(next(p for p in example_packages() if p.name == P2P), home.landing)
    run_cycle(home, as_of=AS_OF, backfill=True)
    with writer_lock(home):
        with connect_writer(home) as con:
            con.execute(
                "update marts.fct_indicator_values set status = 'BREACH' where enterprise_id = 'PAY0001' "
                "and period = '2026-10' and indicator_id = 'RES-001'"
            )
            con.execute(
                """insert into marts.fct_alerts (alert_id, enterprise_id, period, indicator_id, indicator_name,
                       family, metric, severity, value, threshold, message, evidence, computed_at)
                   values (?, 'PAY0001', '2026-10', 'RES-001', 'Reserve coverage', 'RES', 'coverage_ratio',
                           'BREACH', 0.8, 1.0, 'reserve coverage below 100%', 'planted for the portal tests', ?)""",
                [ALERT_ID, AS_OF],
            )
            # one ranked party (the examples rank none): the first of PAY0001's parties in 2026-10
            con.execute(
                """update marts.fct_aml_party_risk set typology_ids = 'AML-003', typologies = 1, alerts = 1,
                       amount_outliers = 2, score = 12, risk_rank = 1
                   where enterprise_id = 'PAY0001' and period = '2026-10' and party_id = (
                       select min(party_id) from marts.fct_aml_party_risk
                       where enterprise_id = 'PAY0001' and period = '2026-10')"""
            )
        publish_snapshot(home, AS_OF)
    store = UserStore(home)
    tokens = {u: store.add(u, role, ent, PASSWORD).token for u, (role, ent) in USERS.items()}
    return PortalWorld(home, tokens)
