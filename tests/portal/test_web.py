"""The portal's pages against the shared portal home (conftest.py): sessions, CSRF, roles, enterprise
isolation, inert payloads, the locked SQL page, the access log, security headers and local chart scripts."""

from __future__ import annotations

import io
import re

import duckdb
import polars as pl
import pytest
from fastapi.testclient import TestClient
from starlette.routing import Mount

from pipelines.portal import access_log
from pipelines.portal.api import is_open_path
from pipelines.portal.web.common import ROLE_HOME
from tests.portal.conftest import ALERT_ID, P2P, PASSWORD, PAY, PAYLOAD, PortalWorld, csrf_of, login_csrf
from tests.portal.helpers import manifest_for, zip_entries, zip_folder
from tests.support import copy_example, refresh_manifest

HTML = {"accept": "text/html"}
PAGES = {
    "filer": ["/filer", f"/filer/submissions/{PAY}", f"/filer/submissions/{PAY}/edit-report.json"],
    "analyst": [
        "/analyst",
        "/analyst?period=2026-10&family=RES",
        "/analyst/enterprises",
        "/analyst/enterprises?q=PAY",
        "/analyst/enterprises/PAY0001",
        f"/analyst/alerts/{ALERT_ID}",
        "/analyst/indicators/RES-001",
        "/analyst/indicators/RES-001?peers=PAY&q=PAY0001&period=2026-10",
        "/analyst/sql",
    ],
    "auditor": [
        "/auditor",
        "/auditor/audit-log",
        "/auditor/trace?enterprise=PAY0001&indicator=RES-001&period=2026-10",
        f"/auditor/submissions/{PAY}/rows/complaints",
        f"/auditor/archive/{PAY}/complaints.csv",
    ],
    "regulator": ["/regulator", "/regulator?period=2026-11"],
}
USER_OF_ROLE = {"filer": "filer-a", "analyst": "ana", "auditor": "aud", "regulator": "reg"}


def _page_routes(app) -> list[tuple[str, str]]:
    out = []
    for r in app.routes:
        if isinstance(r, Mount) or r.path.startswith("/api/"):
            continue
        path = (
            r.path.replace("{sid}", PAY)
            .replace("{fmt}", "json")
            .replace("{eid}", "PAY0001")
            .replace("{alert_id}", ALERT_ID)
            .replace("{indicator_id}", "RES-001")
            .replace("{filing_type}", "complaints")
            .replace("{name}", "complaints.csv")
            .replace("{rest:path}", "x/y")
        )
        for method in sorted(getattr(r, "methods", None) or {"GET"}):
            if method != "HEAD":
                out.append((method, path))
    return out


@pytest.fixture(scope="module")
def clients(portal_world: PortalWorld) -> dict[str, TestClient]:
    return {role: portal_world.client(user) for role, user in USER_OF_ROLE.items()}


def test_no_page_without_a_session(portal_world: PortalWorld) -> None:
    anon = portal_world.client()
    routes = _page_routes(anon.app)
    closed = [(m, p) for m, p in routes if not is_open_path(p) and p not in ("/login",)]
    assert len(closed) >= 20
    for method, path in closed:
        res = anon.request(method, path)
        assert res.status_code == 303, (method, path, res.status_code)
        assert res.headers["location"].startswith("/login"), (method, path)
    for path in ("/nowhere", "/filer/../analyst", "/static-not/x"):
        assert anon.get(path).status_code == 303, path
    assert anon.get("/api/v1/submissions").status_code == 401  # the API answers 401, not a redirect
    for path in ("/login", "/health", "/docs", "/redoc", "/openapi.json", "/static/portal/portal.css"):
        assert anon.get(path).status_code == 200, path
    # a forged or unknown session cookie is no session
    anon.cookies.set("suptech_session", "abc.def")
    assert anon.get("/filer").status_code == 303


def test_each_role_reaches_its_pages_only(clients: dict[str, TestClient]) -> None:
    for role, client in clients.items():
        assert client.get("/").headers["location"] == ROLE_HOME[role]
        for other, pages in PAGES.items():
            for page in pages:
                res = client.get(page, headers=HTML)
                if other == role:
                    assert res.status_code == 200, (role, page, res.status_code, res.text[:300])
                else:
                    assert res.status_code == 403, (role, page, res.status_code)


def test_filer_a_cannot_reach_enterprise_b(portal_world: PortalWorld, clients, tmp_path) -> None:
    a = clients["filer"]
    own = a.get("/filer").text
    assert PAY in own and P2P not in own
    for path in (
        f"/filer/submissions/{P2P}",
        f"/filer/submissions/{P2P}/edit-report.html",
        f"/filer/submissions/{P2P}/edit-report.csv",
        "/filer/submissions/P2P0001-2026-10-v9",
        "/filer/submissions/..%2F..%2Fetc%2Fpasswd",
    ):
        res = a.get(path, headers=HTML)
        assert res.status_code == 404, (path, res.status_code)
        assert "P2P0001" not in res.text.replace(path, "") or "no submission" in res.text
    csrf = csrf_of(a, "/filer")
    res = a.post(
        f"/filer/submissions/{P2P}/acknowledgements", data={"csrf": csrf, "rule_id": "Q001", "reason": "x"}
    )
    assert res.status_code == 404
    b_pkg = copy_example(P2P, tmp_path)
    refresh_manifest(b_pkg, submission_id="P2P0001-2026-10-v2", version=2, supersedes=P2P)
    res = a.post(
        "/filer/upload",
        data={"csrf": csrf},
        files={"package": ("b.zip", zip_folder(b_pkg), "application/zip")},
        headers={"accept": "application/json"},
    )
    assert res.status_code == 403 and "P2P0001" in res.json()["error"]
    assert not (portal_world.home.landing / "P2P0001" / "P2P0001-2026-10-v2").exists()
    # a filer's session is not an API token, and the filer's token does not open another enterprise either
    assert a.get(f"/api/v1/submissions/{P2P}").status_code == 401


def test_forms_without_csrf_are_refused(portal_world: PortalWorld, clients) -> None:
    a, ana = clients["filer"], clients["analyst"]
    for client, path, data in (
        (a, f"/filer/submissions/{PAY}/acknowledgements", {"rule_id": "Q001", "reason": "x"}),
        (a, "/logout", {}),
        (ana, "/analyst/sql", {"sql": "select 1"}),
    ):
        for token in (None, "wrong"):
            body = dict(data, **({"csrf": token} if token else {}))
            res = client.post(path, data=body, headers=HTML)
            assert res.status_code == 403, (path, token, res.status_code)
            assert "CSRF" in res.text
    res = a.post(
        "/filer/upload",
        files={"package": ("p.zip", b"PK", "application/zip")},
        headers={"accept": "application/json"},
    )
    assert res.status_code == 403
    # the sign-in form needs its own token too
    anon = portal_world.client()
    res = anon.post("/login", data={"username": "ana", "password": PASSWORD})
    assert res.status_code == 403 and "suptech_session" not in res.cookies
    # the session still works after the refused logout
    assert a.get("/filer").status_code == 200


def test_sign_in_out_and_throttling(portal_world: PortalWorld) -> None:
    c = portal_world.client()
    before = len(access_log.entries(portal_world.home))
    res = c.post("/login", data={"username": "reg", "password": "wrong-password-x", "csrf": login_csrf(c)})
    assert res.status_code == 401 and "Wrong username or password" in res.text
    res = c.post("/login", data={"username": "reg", "password": PASSWORD, "csrf": login_csrf(c)})
    assert res.status_code == 303 and res.headers["location"] == "/regulator"
    cookie = res.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert c.get("/regulator").status_code == 200
    old = c.cookies.get("suptech_session")
    res = c.post("/logout", data={"csrf": csrf_of(c, "/regulator")})
    assert res.status_code == 303
    c.cookies.set("suptech_session", old)  # the old cookie is dead after sign-out
    assert c.get("/regulator").status_code == 303
    actions = [
        e["action"]
        for e in access_log.entries(portal_world.home)[: len(access_log.entries(portal_world.home)) - before]
    ]
    assert {"sign_in_failed", "sign_in", "sign_out"} <= set(actions)
    # throttling: five wrong passwords, then even the right one is refused for a while
    t = portal_world.client()
    for _ in range(5):
        t.post("/login", data={"username": "filer-b", "password": "nope-nope-nope", "csrf": login_csrf(t)})
    res = t.post("/login", data={"username": "filer-b", "password": PASSWORD, "csrf": login_csrf(t)})
    assert res.status_code == 429 and "too many failed sign-ins" in res.text


def test_script_payloads_render_inert(portal_world: PortalWorld, clients) -> None:
    aud, ana, a = clients["auditor"], clients["analyst"], clients["filer"]
    escaped = "&lt;script&gt;alert("
    # a filed text field (complaint issue) on the auditor's raw rows and through the analyst's SQL page
    page = aud.get(f"/auditor/submissions/{PAY}/rows/complaints").text
    assert PAYLOAD not in page and escaped in page
    res = ana.post(
        "/analyst/sql",
        data={
            "csrf": csrf_of(ana, "/analyst/sql"),
            "sql": "select distinct issue from marts.fct_complaint_issue_mix, "
            "(select 1) where false union all select '" + PAYLOAD.replace("'", "''") + "'",
        },
    )
    assert res.status_code in (200, 400)
    assert PAYLOAD not in res.text
    # a file name in an upload: refused, and the name in the error is inert
    name = f"{PAYLOAD}.csv"
    body = zip_entries({"manifest.json": manifest_for("PAY0001", "PAY0001-2026-10-v7"), name: b"x"})
    csrf = csrf_of(a, "/filer")
    res = a.post(
        "/filer/upload",
        data={"csrf": csrf},
        files={"package": ("p.zip", body, "application/zip")},
        headers=HTML,
    )
    assert res.status_code >= 400 and PAYLOAD not in res.text
    # an acknowledgement reason typed by the filer, shown back on its page (pending) and in the access log
    ack = a.post(
        f"/filer/submissions/{PAY}/acknowledgements",
        data={"csrf": csrf, "rule_id": "Q001", "reason": PAYLOAD},
        headers=HTML,
    )
    assert ack.status_code in (303, 422) and PAYLOAD not in ack.text
    for client, path in ((a, f"/filer/submissions/{PAY}"), (aud, "/auditor/audit-log")):
        assert PAYLOAD not in client.get(path).text, path
    # no page carries an inline script: every <script> has a src on this origin
    for role, pages in PAGES.items():
        for p in pages:
            res = clients[role].get(p)
            if not res.headers["content-type"].startswith("text/html"):
                # downloads (archived files, edit reports) are attachments, never rendered (nosniff)
                assert res.headers["x-content-type-options"] == "nosniff"
                continue
            for tag in re.findall(r"<script[^>]*>", res.text):
                assert re.fullmatch(r'<script src="/static/[^"]+">', tag), (p, tag)


def test_sql_page_reads_only(portal_world: PortalWorld, clients) -> None:
    ana = clients["analyst"]
    csrf = csrf_of(ana, "/analyst/sql")
    ok = ana.post(
        "/analyst/sql",
        data={"csrf": csrf, "sql": "select enterprise_id from marts.dim_enterprises order by 1"},
    )
    assert ok.status_code == 200 and "P2P0001" in ok.text and "PAY0001" in ok.text
    live = portal_world.home.root / "warehouse" / "suptech.duckdb"
    for sql in (
        "insert into marts.fct_alerts (alert_id) values ('x')",
        "delete from marts.fct_alerts",
        "create table t as select 1",
        f"attach '{live}' as live",
        "select * from read_csv('/etc/passwd')",
        "select * from read_text('/etc/passwd')",
        f"select * from read_parquet('{live}')",
        "copy (select 1) to '/tmp/portal-out.csv'",
        "install httpfs",
        "set enable_external_access = true",
        "select 1; drop table marts.fct_alerts",
        "pragma database_list",
    ):
        res = ana.post("/analyst/sql", data={"csrf": csrf, "sql": sql}, headers=HTML)
        assert res.status_code == 400, (sql, res.status_code)
        assert 'id="sql-error"' in res.text, sql
    csv = ana.post(
        "/analyst/sql",
        data={"csrf": csrf, "sql": "select enterprise_id from marts.dim_enterprises", "format": "csv"},
    )
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"] and "PAY0001" in csv.text
    pq = ana.post("/analyst/sql", data={"csrf": csrf, "sql": "select 42 as answer", "format": "parquet"})
    assert pq.status_code == 200 and pl.read_parquet(io.BytesIO(pq.content))["answer"].to_list() == [42]
    logged = [e for e in access_log.entries(portal_world.home, 40) if e["username"] == "ana"]
    assert any(
        e["action"] == "query" and e["detail"]["download"] == "parquet"
        for e in logged
        if e["detail"].get("download")
    )
    assert any(e["action"] == "query_refused" and "attach" in e["detail"]["sql"] for e in logged)
    assert access_log.verify(portal_world.home).intact


def test_analyst_reaches_evidence_and_sees_pseudonyms_only(clients) -> None:
    ana = clients["analyst"]
    profile = ana.get("/analyst/enterprises/PAY0001").text
    assert f"/analyst/alerts/{ALERT_ID}" in profile
    alert = ana.get(f"/analyst/alerts/{ALERT_ID}").text
    assert "Evidence rows" in alert and "BREACH" in alert and "coverage_ratio" in alert
    # the analyst file holds no raw rows: the auditor-only pages stay closed, and SQL on raw fails
    csrf = csrf_of(ana, "/analyst/sql")
    res = ana.post("/analyst/sql", data={"csrf": csrf, "sql": "select * from raw.complaints"})
    assert res.status_code == 400


def test_analyst_profile_lists_the_ranked_parties_by_pseudonym(portal_world: PortalWorld, clients) -> None:
    profile = clients["analyst"].get("/analyst/enterprises/PAY0001").text
    section = profile[profile.index('id="enterprise-parties"') :]
    section = section[: section.index("</table>")]
    cells = re.findall(r"<td>(.*?)</td>", section)
    with duckdb.connect(str(portal_world.home.published / "suptech.duckdb"), read_only=True) as con:
        (pseudonym,) = con.execute(
            "select party_id from marts.fct_aml_party_risk where enterprise_id = 'PAY0001' and risk_rank = 1"
        ).fetchone()
    with duckdb.connect(str(portal_world.home.published / "auditor.duckdb"), read_only=True) as con:
        (filed,) = con.execute(
            "select party_id from marts.fct_aml_party_risk where enterprise_id = 'PAY0001' and risk_rank = 1"
        ).fetchone()
    assert cells[:6] == ["2026-10", pseudonym, "1", "12", "1", "AML-003"], cells
    assert pseudonym != filed and filed not in profile  # the analyst sees the keyed pseudonym only


def test_auditor_trace_to_archived_bytes(portal_world: PortalWorld, clients) -> None:
    aud = clients["auditor"]
    trace = aud.get("/auditor/trace?enterprise=PAY0001&indicator=RES-001&period=2026-10").text
    assert PAY in trace and "archived file" in trace
    res = aud.get(f"/auditor/archive/{PAY}/complaints.csv")
    archived = portal_world.home.root / "archive" / "PAY0001" / PAY / "1" / "complaints.csv"
    assert res.status_code == 200 and res.content == archived.read_bytes()
    for bad in ("..%2F..%2Fwarehouse%2Fsuptech.duckdb", ".hidden", "nope.csv"):
        assert aud.get(f"/auditor/archive/{PAY}/{bad}").status_code == 404, bad
    log = aud.get("/auditor/audit-log").text
    assert 'id="intake-verified"' in log and "Verified" in log


def test_regulator_sees_missing_filers(clients) -> None:
    page = clients["regulator"].get("/regulator?period=2026-11").text
    assert "missing 2" in page and "PAY0001" in page and "P2P0001" in page
    assert "Dagster UI" in page and "Risk ranking" in page and "Latest cycles" in page


def test_security_headers_and_local_chart_scripts(clients) -> None:
    ana = clients["analyst"]
    res = ana.get("/analyst/indicators/RES-001")
    csp = res.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp
    assert res.headers["x-frame-options"] == "DENY"
    assert 'data-vl="' in res.text and "cdn" not in res.text.lower()
    for name in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "vega-interpreter.js"):
        js = ana.get(f"/static/js/vendor/{name}")
        assert js.status_code == 200 and len(js.content) > 1000, name
    interp = ana.get("/static/js/vendor/vega-interpreter.js").text
    assert "import " not in interp.split("\n")[1] and "window.vegaInterpreter" in interp


def test_demo_users_and_their_credentials_file(portal_world: PortalWorld) -> None:
    import json
    import stat

    from pipelines.portal import demo

    path, creds = demo.create(portal_world.home)
    assert path == portal_world.home.root / "demo-credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = json.loads(path.read_text())
    assert set(doc) == {"regulator", "analyst", "auditor", "filer"}
    for role, c in doc.items():
        assert set(c) == (
            {"username", "password", "token", "enterprise_id"}
            if role == "filer"
            else {"username", "password", "token"}
        )
        client = portal_world.client()
        res = client.post(
            "/login", data={"username": c["username"], "password": c["password"], "csrf": login_csrf(client)}
        )
        assert res.status_code == 303 and res.headers["location"] == ROLE_HOME[role]
    assert doc["filer"]["enterprise_id"] in ("PAY0001", "P2P0001")
    api = portal_world.client()
    res = api.get("/api/v1/submissions", headers={"Authorization": f"Bearer {doc['filer']['token']}"})
    assert res.status_code == 200
    with pytest.raises(Exception, match="exists already"):
        demo.create(portal_world.home)


def test_pages_answer_while_a_cycle_holds_the_warehouse(portal_world: PortalWorld, clients) -> None:
    """R4 through the portal: with the writer lock held and the live warehouse open for writing (as during
    a cycle), every page still answers: the portal reads only the published snapshots."""
    from pipelines.warehouse.db import connect_writer, writer_lock

    with writer_lock(portal_world.home), connect_writer(portal_world.home):
        for role, pages in PAGES.items():
            for page in pages:
                assert clients[role].get(page).status_code == 200, (role, page)
