"""The filing API against a home built from the spec's two examples by one real cycle (module-scoped).

Filer A files for PAY0001, filer B for P2P0001. Covers: authentication on every non-open route (found by
enumerating the app's routes, so new routes are covered), security headers, enterprise isolation on every
object fetched by id, edit report downloads, the acknowledgement queue applied by `apply_pending`, an
upload taken in by the next cycle, and the access log (each action recorded, verified, tampering found).
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Mount

from pipelines.cycle import run_cycle
from pipelines.home import Home
from pipelines.intake import audit
from pipelines.portal import access_log, queue, store_path
from pipelines.portal.api import create_app, is_open_path
from pipelines.portal.users import UserStore
from pipelines.warehouse.db import connect_writer, publish_snapshot, writer_lock
from tests.portal.helpers import bearer, landed, staging_left, zip_folder
from tests.support import copy_example, drop_examples, refresh_manifest

# The tests share one home (`world`) and build on each other's requests in file order (the access-log test
# checks the entries the earlier ones left): one xdist worker runs the file (`make test`: --dist loadfile).

AS_OF = datetime(2026, 12, 1, tzinfo=UTC)
PAY, P2P = "PAY0001-2026-10-v1", "P2P0001-2026-10-v1"
WARN = "Q001"  # a warning rule of the catalog; the examples raise none, so one finding is planted


@dataclass
class World:
    home: Home
    client: TestClient
    a: str  # filer of PAY0001
    b: str  # filer of P2P0001
    regulator: str
    auditor: str
    analyst: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    home = Home.resolve(tmp_path_factory.mktemp("api") / "home").ensure()
    drop_examples(home.landing)
    run_cycle(home, as_of=AS_OF, backfill=True)
    with writer_lock(home):
        with connect_writer(home) as con:
            con.execute(
                "insert into quality.findings (submission_id, rule_id, stage, severity, message, found_at) "
                "values (?, ?, 'Q', 'warning', 'round amounts', ?)",
                [PAY, WARN, AS_OF],
            )
        publish_snapshot(home, AS_OF)
    store = UserStore(home)
    return World(
        home,
        TestClient(create_app(home)),
        store.add("filer-a", "filer", "PAY0001").token,
        store.add("filer-b", "filer", "P2P0001").token,
        store.add("reg", "regulator").token,
        store.add("aud", "auditor").token,
        store.add("ana", "analyst").token,
    )


def _routes(app) -> list[tuple[str, str]]:
    """(method, concrete path) of every route, path parameters filled in."""
    out = []
    for r in app.routes:
        if isinstance(r, Mount):
            continue
        path = r.path.replace("{submission_id}", PAY).replace("{fmt}", "csv").replace("{rest:path}", "x/y")
        for method in sorted(getattr(r, "methods", None) or {"GET"}):
            if method != "HEAD":
                out.append((method, path))
    return out


def test_every_non_open_route_needs_a_token(world: World) -> None:
    routes = _routes(world.client.app)
    # the portal's pages (sessions, 303 to /login) are covered by test_web.test_no_page_without_a_session
    closed = [(m, p) for m, p in routes if not is_open_path(p) and p.startswith("/api/")]
    assert len(closed) >= 6 and any(p.startswith("/api/v1/submissions") for _, p in closed)
    for method, path in closed:
        for headers in ({}, bearer("not-a-token"), {"Authorization": "Basic YTpi"}):
            res = world.client.request(method, path, headers=headers)
            assert res.status_code == 401, (method, path, headers, res.status_code)
            assert res.json()["detail"] and res.headers["www-authenticate"].startswith("Bearer")
    assert world.client.get("/api/v2/anything").status_code == 401
    for path in ("/health", "/openapi.json", "/docs", "/redoc", "/static/vendor/swagger-ui-bundle.js"):
        assert world.client.get(path).status_code == 200, path
    assert "cdn" not in world.client.get("/docs").text.lower()
    assert "<script>" not in world.client.get("/docs").text  # no inline script
    assert "<script>" not in world.client.get("/redoc").text


def test_security_headers_on_every_answer(world: World) -> None:
    for res in (
        world.client.get("/health"),
        world.client.get("/api/v1/submissions"),
        world.client.get(f"/api/v1/submissions/{P2P}", headers=bearer(world.a)),
        world.client.get("/api/v1/submissions", headers=bearer(world.a)),
    ):
        assert res.headers["x-frame-options"] == "DENY"
        assert res.headers["x-content-type-options"] == "nosniff"
        assert res.headers["referrer-policy"] == "no-referrer"
        csp = res.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert "server" not in res.headers


def test_lists_by_role(world: World) -> None:
    def ids(token: str) -> list[str]:
        res = world.client.get("/api/v1/submissions", headers=bearer(token))
        assert res.status_code == 200, res.text
        return sorted(s["submission_id"] for s in res.json()["submissions"] if not s["pending"])

    assert ids(world.a) == [PAY] or ids(world.a)[0] == PAY
    assert all(s.startswith("PAY0001") for s in ids(world.a))
    assert all(s.startswith("P2P0001") for s in ids(world.b))
    assert {PAY, P2P} <= set(ids(world.regulator)) and {PAY, P2P} <= set(ids(world.auditor))
    assert world.client.get("/api/v1/submissions", headers=bearer(world.analyst)).status_code == 403


def test_own_submission_events_and_edit_reports(world: World) -> None:
    res = world.client.get(f"/api/v1/submissions/{PAY}", headers=bearer(world.a))
    assert res.status_code == 200, res.text
    sub = res.json()
    assert sub["enterprise_id"] == "PAY0001" and sub["status"] in (
        "ACCEPTED",
        "ACCEPTED_WITH_WARNINGS",
        "SUPERSEDED",
    )
    assert [e["status"] for e in sub["events"]][0] == "RECEIVED"
    assert set(sub["edit_reports"]) == {"csv", "json", "html"}
    for fmt, kind in (("csv", "text/csv"), ("json", "application/json"), ("html", "text/html")):
        got = world.client.get(sub["edit_reports"][fmt], headers=bearer(world.a))
        assert got.status_code == 200 and got.headers["content-type"].startswith(kind)
        assert got.headers["content-disposition"].startswith("attachment")
        assert got.content == (world.home.reports / "edit" / f"{PAY}.{fmt}").read_bytes()
    assert (
        world.client.get(f"/api/v1/submissions/{PAY}/edit-report.exe", headers=bearer(world.a)).status_code
        == 404
    )


def test_other_enterprise_is_not_found(world: World) -> None:
    unknown = world.client.get("/api/v1/submissions/P2P0001-2026-10-v9", headers=bearer(world.a))
    assert unknown.status_code == 404
    paths = [f"/api/v1/submissions/{P2P}"] + [
        f"/api/v1/submissions/{P2P}/edit-report.{f}" for f in ("csv", "json", "html")
    ]
    for path in paths:
        res = world.client.get(path, headers=bearer(world.a))
        assert res.status_code == 404, path
        assert res.json()["detail"] == f"no submission {P2P} visible to you"
        assert world.client.get(path, headers=bearer(world.b)).status_code == 200  # B's own
        assert world.client.get(path, headers=bearer(world.regulator)).status_code == 200
    res = world.client.post(
        f"/api/v1/submissions/{P2P}/acknowledgements",
        json={"rule_id": WARN, "reason": "x"},
        headers=bearer(world.a),
    )
    assert res.status_code == 404
    assert queue.pending(world.home) == []
    # path tricks on the id never reach a file of another enterprise
    for sid in ("..%2FP2P0001-2026-10-v1", "%2E%2E", f"{PAY}%2F..%2F{P2P}"):
        assert (
            world.client.get(
                f"/api/v1/submissions/{sid}/edit-report.csv", headers=bearer(world.a)
            ).status_code
            == 404
        )


def test_acknowledgement_queued_then_applied_by_the_next_cycle(world: World) -> None:
    url = f"/api/v1/submissions/{PAY}/acknowledgements"
    body = {"rule_id": WARN, "reason": "campaign month: round top-ups are real"}
    assert world.client.post(url, json=body, headers=bearer(world.regulator)).status_code == 403
    err = world.client.post(url, json={"rule_id": "V001", "reason": "x"}, headers=bearer(world.a))
    assert err.status_code == 422 and "is an error, not a warning" in err.json()["detail"]
    none = world.client.post(url, json={"rule_id": "M003", "reason": "x"}, headers=bearer(world.a))
    assert none.status_code == 422 and "no finding of M003" in none.json()["detail"]
    res = world.client.post(url, json=body, headers=bearer(world.a))
    assert res.status_code == 202 and res.json()["status"] == "PENDING"
    assert world.client.post(url, json=body, headers=bearer(world.a)).status_code == 409
    sub = world.client.get(f"/api/v1/submissions/{PAY}", headers=bearer(world.a)).json()
    assert [p["rule_id"] for p in sub["pending_acknowledgements"]] == [WARN]
    assert not any(e["status"] == "ACKNOWLEDGED" for e in sub["events"])

    at = datetime(2026, 12, 2, tzinfo=UTC)
    report = run_cycle(world.home, as_of=at, build_marts=False)  # the next cycle applies the queue
    outcomes = report.acknowledgements
    assert [(o.submission_id, o.rule_id, o.applied) for o in outcomes] == [(PAY, WARN, True)]
    with writer_lock(world.home), connect_writer(world.home) as con:
        assert audit.verify(con).intact
    assert queue.pending(world.home) == []
    assert [d["applied"] for d in queue.done(world.home, PAY)] == [True]
    sub = world.client.get(f"/api/v1/submissions/{PAY}", headers=bearer(world.a)).json()
    assert sub["pending_acknowledgements"] == []
    assert [(a["rule_id"], a["acknowledged_by"]) for a in sub["acknowledgements"]] == [(WARN, "filer-a")]
    assert any(e["status"] == "ACKNOWLEDGED" for e in sub["events"])
    again = world.client.post(url, json=body, headers=bearer(world.a))
    assert again.status_code == 409 and "acknowledged already" in again.json()["detail"]


def test_upload_taken_in_by_the_next_cycle(world: World, tmp_path: Path) -> None:
    v2 = "PAY0001-2026-10-v2"
    src = copy_example(PAY, tmp_path)
    refresh_manifest(
        src, submission_id=v2, version=2, supersedes=PAY, submitted_at="2026-11-30T10:00:00+08:00"
    )
    res = world.client.post(
        "/api/v1/submissions",
        content=zip_folder(src, top=v2),
        headers={**bearer(world.a), "Content-Type": "application/zip"},
    )
    assert res.status_code == 202, res.text
    assert landed(world.home) == [f"PAY0001/{v2}"] and staging_left(world.home) == []
    listed = world.client.get("/api/v1/submissions", headers=bearer(world.a)).json()["submissions"]
    assert {"submission_id": v2, "status": "UPLOADED", "pending": True}.items() <= next(
        s for s in listed if s["submission_id"] == v2
    ).items()
    assert world.client.get(f"/api/v1/submissions/{v2}", headers=bearer(world.b)).status_code == 404
    run_cycle(world.home, as_of=datetime(2026, 12, 3, tzinfo=UTC), build_marts=False)
    assert landed(world.home) == []
    sub = world.client.get(f"/api/v1/submissions/{v2}", headers=bearer(world.a)).json()
    assert sub["pending"] is False and sub["status"] in ("ACCEPTED", "ACCEPTED_WITH_WARNINGS"), sub
    assert sub["events"][0]["status"] == "RECEIVED"


def test_access_log_records_and_verifies(world: World, tmp_path: Path) -> None:
    world.client.get(f"/api/v1/submissions/{PAY}/edit-report.json", headers=bearer(world.a))
    rows = access_log.entries(world.home)
    seen = {(r["action"], r["username"], r["role"]) for r in rows}
    assert {
        ("list", "filer-a", "filer"),
        ("read", "filer-a", "filer"),
        ("download", "filer-a", "filer"),
        ("acknowledge", "filer-a", "filer"),
        ("upload", "filer-a", "filer"),
        ("list", "reg", "regulator"),
    } <= seen
    assert rows[0]["target"] == f"{PAY}.json"
    check = access_log.verify(world.home)
    assert check.intact and check.entries == len(rows) and check.head[0] == check.last_anchor.seq

    def copy() -> Home:
        home = Home.resolve(tmp_path / f"copy{len(list(tmp_path.iterdir()))}")
        shutil.copytree(store_path(world.home).parent, home.root / "portal")
        (home.root / "audit").mkdir(parents=True)
        shutil.copy(access_log.anchor_file(world.home), access_log.anchor_file(home))
        return home

    def tamper(home: Home, sql: str) -> None:
        con = sqlite3.connect(store_path(home))
        con.execute(sql)
        con.commit()
        con.close()

    last = check.head[0]
    edited = copy()
    tamper(edited, f"update access_log set target = 'someone-else' where seq = {last}")
    brk = access_log.verify(edited).first_break
    assert brk is not None and brk.seq == last and "changed" in brk.problem
    deleted = copy()
    tamper(deleted, f"delete from access_log where seq = {last}")
    brk = access_log.verify(deleted).first_break
    assert brk is not None and "newest entries were deleted" in brk.problem
    rehashed = copy()
    row = (
        sqlite3.connect(store_path(world.home))
        .execute(
            "select seq, at, action, target, username, role, detail, prev_hash from access_log where seq = ?",
            [last],
        )
        .fetchone()
    )
    forged = audit.entry_hash(
        row[0], datetime.fromisoformat(row[1]), row[2], "forged", f"{row[5]}:{row[4]}", row[6], row[7]
    )
    tamper(rehashed, f"update access_log set target = 'forged', hash = '{forged}' where seq = {last}")
    brk = access_log.verify(rehashed).first_break
    assert brk is not None and "was rewritten" in brk.problem
