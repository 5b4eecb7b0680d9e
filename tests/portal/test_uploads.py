"""Uploads through the filing API (no cycle needed): accepted forms land atomically, hostile archives are
refused with a specific error before anything is extracted, nothing lands and staging is cleaned."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipelines.home import Home
from pipelines.portal import access_log
from pipelines.portal.api import create_app
from pipelines.portal.uploads import MAX_FILES, Limits
from pipelines.portal.users import UserStore
from tests.portal.helpers import (
    bearer,
    landed,
    manifest_for,
    staging_left,
    tar_gz_entries,
    tar_gz_folder,
    zip_bomb,
    zip_entries,
    zip_folder,
    zip_with_symlink,
)
from tests.support import copy_example

PAY = "PAY0001-2026-10-v1"
P2P = "P2P0001-2026-10-v1"
ZIP = {"Content-Type": "application/zip"}
GZ = {"Content-Type": "application/gzip"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("uploads")
    home = Home.resolve(root / "home").ensure()
    store = UserStore(home)
    return {
        "home": home,
        "client": TestClient(create_app(home)),
        "filer": store.add("pay1", "filer", "PAY0001").token,
        "regulator": store.add("reg", "regulator").token,
        "pay": copy_example(PAY, root / "src"),
        "p2p": copy_example(P2P, root / "src"),
    }


def _post(env: dict, body: bytes, headers: dict, token: str | None = None):
    return env["client"].post(
        "/api/v1/submissions", content=body, headers={**bearer(token or env["filer"]), **headers}
    )


def _clear_landing(home: Home) -> None:
    import shutil

    shutil.rmtree(home.landing, ignore_errors=True)
    home.landing.mkdir()


def test_zip_with_top_folder_lands_atomically(env: dict) -> None:
    home: Home = env["home"]
    _clear_landing(home)
    res = _post(env, zip_folder(env["pay"], top=PAY), ZIP)
    assert res.status_code == 202, res.text
    assert res.json()["submission_id"] == PAY and res.json()["status"] == "UPLOADED"
    assert res.headers["location"] == f"/api/v1/submissions/{PAY}"
    assert landed(home) == [f"PAY0001/{PAY}"]
    assert sorted(p.name for p in (home.landing / "PAY0001" / PAY).iterdir()) == sorted(
        p.name for p in env["pay"].iterdir()
    )
    assert (home.landing / "PAY0001" / PAY / "manifest.json").read_bytes() == (
        env["pay"] / "manifest.json"
    ).read_bytes()
    assert staging_left(home) == []
    # listed as UPLOADED, pending, before any cycle
    sub = env["client"].get(f"/api/v1/submissions/{PAY}", headers=bearer(env["filer"])).json()
    assert sub["status"] == "UPLOADED" and sub["pending"] is True
    # the same folder name again: refused, the first one untouched
    again = _post(env, zip_folder(env["pay"]), ZIP)
    assert again.status_code == 409 and "already in the landing area" in again.json()["detail"]
    assert landed(home) == [f"PAY0001/{PAY}"] and staging_left(home) == []


def test_tar_gz_and_multipart_forms(env: dict) -> None:
    home: Home = env["home"]
    _clear_landing(home)
    assert _post(env, tar_gz_folder(env["pay"]), GZ).status_code == 202
    assert landed(home) == [f"PAY0001/{PAY}"]
    _clear_landing(home)
    files = [("files", (p.name, p.read_bytes())) for p in sorted(env["pay"].iterdir())]
    res = env["client"].post("/api/v1/submissions", files=files, headers=bearer(env["filer"]))
    assert res.status_code == 202, res.text
    assert landed(home) == [f"PAY0001/{PAY}"]
    _clear_landing(home)
    res = env["client"].post(
        "/api/v1/submissions",
        files=[("package", ("p.zip", zip_folder(env["pay"])))],
        headers=bearer(env["filer"]),
    )
    assert res.status_code == 202, res.text
    assert landed(home) == [f"PAY0001/{PAY}"] and staging_left(home) == []
    _clear_landing(home)


def test_other_enterprise_and_other_roles_refused(env: dict) -> None:
    home: Home = env["home"]
    _clear_landing(home)
    res = _post(env, zip_folder(env["p2p"]), ZIP)
    assert res.status_code == 403
    assert "enterprise_id is P2P0001, but this token files for PAY0001" in res.json()["detail"]
    res = _post(env, zip_folder(env["pay"]), ZIP, token=env["regulator"])
    assert res.status_code == 403 and "only a filer uploads" in res.json()["detail"]
    assert landed(home) == [] and staging_left(home) == []


def _many_files() -> bytes:
    entries = {f"f{i}.csv": b"x" for i in range(MAX_FILES + 1)}
    return zip_entries({"manifest.json": manifest_for("PAY0001", PAY), **entries})


def _tar_link(kind: bytes) -> bytes:
    link = tarfile.TarInfo("transactions.csv")
    link.type = kind
    link.linkname = "/etc/passwd"
    man = tarfile.TarInfo("manifest.json")
    return tar_gz_entries([man, link], {"manifest.json": manifest_for("PAY0001", PAY)})


def _tar_device() -> bytes:
    dev = tarfile.TarInfo("transactions.csv")
    dev.type = tarfile.CHRTYPE
    return tar_gz_entries([dev], {})


def _tar_bomb() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        info = tarfile.TarInfo("transactions.csv")
        info.size = 100 << 20
        tf.addfile(info, io.BytesIO(b"\0" * info.size))
    return buf.getvalue()


MANIFEST = manifest_for("PAY0001", PAY)
HOSTILE = {
    "zip-slip": (zip_entries({"manifest.json": MANIFEST, "../x": b"evil"}), ZIP, 422, "escapes the package"),
    "zip-slip-nested": (zip_entries({"a/../../x": b"evil"}), ZIP, 422, "escapes the package"),
    "absolute": (zip_entries({"/etc/cron.d/x": b"evil"}), ZIP, 422, "has an absolute path"),
    "symlink": (zip_with_symlink("transactions.csv", "/etc/passwd", MANIFEST), ZIP, 422, "symbolic link"),
    "zip-bomb": (zip_bomb(MANIFEST), ZIP, 413, "possible compression bomb"),
    "too-many-files": (_many_files(), ZIP, 422, f"a package has at most {MAX_FILES}"),
    "tar-symlink": (_tar_link(tarfile.SYMTYPE), GZ, 422, "is a symbolic link"),
    "tar-hardlink": (_tar_link(tarfile.LNKTYPE), GZ, 422, "is a hard link"),
    "tar-device": (_tar_device(), GZ, 422, "not a regular file"),
    "tar-bomb": (_tar_bomb(), GZ, 413, "possible compression bomb"),
    "not-an-archive": (b"hello, this is text", ZIP, 415, "neither a .zip nor a .tar.gz"),
    "corrupt-zip": (b"PK\x03\x04" + b"\0" * 100, ZIP, 422, "zip archive cannot be read"),
    "no-manifest": (
        zip_entries({"transactions.csv": b"a,b\n"}),
        ZIP,
        422,
        "no manifest.json at the package root",
    ),
    "bad-manifest": (zip_entries({"manifest.json": b"{not json"}), ZIP, 422, "manifest.json is not valid"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_upload_refused(env: dict, case: str) -> None:
    home: Home = env["home"]
    _clear_landing(home)
    body, headers, status, message = HOSTILE[case]
    res = _post(env, body, headers)
    assert res.status_code == status, res.text
    assert message in res.json()["detail"]
    assert landed(home) == [] and staging_left(home) == []
    last = access_log.entries(home, limit=1)[0]
    assert (last["action"], last["username"], last["role"]) == ("upload_refused", "pay1", "filer")
    assert last["detail"]["status"] == status


def test_oversized_upload_refused(env: dict, tmp_path: Path) -> None:
    home: Home = env["home"]
    _clear_landing(home)
    small = TestClient(create_app(home, Limits(max_upload_bytes=4096)))
    body = zip_folder(env["pay"])
    assert len(body) > 4096
    res = small.post("/api/v1/submissions", content=body, headers={**bearer(env["filer"]), **ZIP})
    assert res.status_code == 413 and "larger than 4096 bytes" in res.json()["detail"]
    res = small.post(
        "/api/v1/submissions", files=[("package", ("p.zip", body))], headers=bearer(env["filer"])
    )
    assert res.status_code == 413
    assert landed(home) == [] and staging_left(home) == []
    assert access_log.verify(home).intact
