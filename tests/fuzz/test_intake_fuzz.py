"""Property-based fuzzing of the intake (issue 11): whatever lands — any names (bytes that are not UTF-8),
any manifest (random JSON, lone surrogates, huge integers, wrong types, odd periods, binary garbage), any
file contents, links and loose files — the intake

- raises nothing and leaves nothing in landing/,
- gives every delivery a status (an outcome and its intake.submissions row),
- archives every delivered byte exactly as received (the full trees compared; links kept as links), and
  every file recorded in intake.files has the SHA-256 of its archived bytes,
- leaves the spec's valid examples beside them unaffected (taken in, RECEIVED, all their rows).

Bounded: 40 examples, each a fresh home with the two examples and 1-3 hostile deliveries, taken in
directly with take_in (no dbt).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings
from hypothesis.configuration import set_hypothesis_home_dir

from pipelines.home import Home
from pipelines.intake.service import take_in
from pipelines.warehouse.db import connect_writer, writer_lock
from tests.support import EXAMPLES, drop_examples

CLOCK = datetime(2027, 1, 15, tzinfo=UTC)  # after every manifest mtime below: no grace period applies
EXAMPLE = EXAMPLES / "PAY0001" / "PAY0001-2026-10-v1"
EXAMPLE_IDS = {"PAY0001-2026-10-v1": 9, "P2P0001-2026-10-v1": 14}  # their transactions rows
EXAMPLE_MANIFEST = json.loads((EXAMPLE / "manifest.json").read_text(encoding="utf-8"))
STATS: Counter = Counter()
# Hypothesis keeps its caches in ./.hypothesis by default: in a temporary folder instead (no example database,
# the examples are derandomized), so test runs leave nothing in the work tree
HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="suptech-hypothesis-")
set_hypothesis_home_dir(HYPOTHESIS_HOME)
atexit.register(shutil.rmtree, HYPOTHESIS_HOME, True)

# ---- strategies ------------------------------------------------------------------------------------------

names = st.one_of(
    st.sampled_from(
        [b"PAY0003", b"PAY0002", b"CF0001", b"WM0009", b"P2P0004", b"notes.txt", b"a b", b"-", b"~x~1"]
    ),
    st.text(min_size=1, max_size=24).map(os.fsencode),
    st.binary(min_size=1, max_size=24),
).filter(lambda b: b"/" not in b and b"\0" not in b and b not in (b".", b"..") and len(b) <= 200)
ent_names = names.filter(lambda b: b not in (b"PAY0001", b"P2P0001"))
texts = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=20),  # surrogates included
    st.sampled_from(
        ["\udcff", "\ud800", "\x00", "9999-12", "0001-01", "2026-13", "../x", "/etc/passwd", "é" * 100]
    ),
)
periods = st.one_of(
    st.sampled_from(["9999-12", "0001-01", "1999-12", "2000-01", "2026-10", "2028-02", "2026-00", "26-10"]),
    st.from_regex(r"\A[0-9]{4}-(0[1-9]|1[0-2])\Z"),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
    | periods,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
TOP_KEYS = [*EXAMPLE_MANIFEST, "comment"]
FILE_KEYS = [*EXAMPLE_MANIFEST["files"][0], "control_totals"]


@st.composite
def manifests(draw, ent: str, sid: str) -> bytes:
    """manifest.json bytes: the example re-keyed to `ent`/`sid` with a few random edits, or garbage."""
    kind = draw(st.sampled_from(["edited", "edited", "edited", "garbage", "huge_int", "surrogate"]))
    if kind == "garbage":
        return draw(st.binary(max_size=300))
    if kind == "huge_int":
        return b'{"spec_version": "1.0", "version": ' + b"9" * draw(st.integers(4000, 6000)) + b"}"
    m = json.loads(json.dumps(EXAMPLE_MANIFEST))
    m.update(submission_id=sid, enterprise_id=ent)
    if kind == "surrogate":
        m[draw(st.sampled_from(TOP_KEYS))] = draw(st.sampled_from(["\udcff", "x\ud800y"]))
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(["top", "file", "period", "drop"]))
        if where == "top":
            m[draw(st.sampled_from(TOP_KEYS))] = draw(json_values)
        elif where == "file" and isinstance(m.get("files"), list) and m["files"]:
            f = draw(st.sampled_from(m["files"]))
            if isinstance(f, dict):
                f[draw(st.sampled_from(FILE_KEYS))] = draw(json_values)
        elif where == "period":
            period = draw(periods)
            m.update(period=period, submission_id=f"{ent}-{period}-v1")
        elif m:
            m.pop(draw(st.sampled_from(sorted(m))), None)
    return json.dumps(m, ensure_ascii=True).encode("ascii")  # surrogates travel as \\udXXX escapes


@st.composite
def deliveries(draw) -> dict:
    """One hostile delivery: a package folder, a loose file or a link, in landing/ or an enterprise folder."""
    kind = draw(
        st.sampled_from(["package", "package", "package", "package", "loose_file", "link", "top_file"])
    )
    ent = draw(ent_names)
    text_ent = ent.decode("utf-8", "replace")
    folder = draw(
        st.one_of(
            st.just(f"{text_ent}-2026-10-v1".encode()),
            st.sampled_from([b"PAY0001-2026-10-v1", b"P2P0001-2026-10-v2", b"upload-final"]),
            names,
        )
    )
    out = {"kind": kind, "ent": ent, "folder": folder}
    if kind == "package":
        out["manifest"] = draw(manifests(text_ent, folder.decode("utf-8", "replace")))
        out["edits"] = draw(
            st.lists(
                st.tuples(
                    st.sampled_from(sorted(p.name for p in EXAMPLE.iterdir() if p.name != "manifest.json")),
                    st.sampled_from(["replace", "append", "keep"]),
                    st.binary(max_size=200),
                ),
                max_size=2,
            )
        )
        out["extra"] = draw(st.lists(st.tuples(names, st.binary(max_size=50)), max_size=2))
        out["link_inside"] = draw(st.booleans())
    else:
        out["data"] = draw(st.binary(max_size=200))
    out["mtime"] = draw(st.floats(min_value=0, max_value=CLOCK.timestamp() - 3600))
    return out


# ---- building and snapshotting ---------------------------------------------------------------------------


def build(landing: bytes, outside: bytes, d: dict) -> bytes | None:
    """Write delivery `d` into the landing area; returns its path (None when its place is taken)."""
    if d["kind"] == "top_file":
        path = os.path.join(landing, d["folder"])
    else:
        ent_dir = os.path.join(landing, d["ent"])
        if os.path.lexists(ent_dir) and not os.path.isdir(ent_dir):
            return None
        os.makedirs(ent_dir, exist_ok=True)
        path = os.path.join(ent_dir, d["folder"])
    if os.path.lexists(path):
        return None
    if d["kind"] in ("loose_file", "top_file"):
        with open(path, "wb") as fh:
            fh.write(d["data"])
    elif d["kind"] == "link":
        os.symlink(outside, path)
    else:
        _package(path, outside, d)
    STATS["deliveries"] += 1
    return path


def _package(path: bytes, outside: bytes, d: dict) -> None:
    os.makedirs(path)
    for f in sorted(EXAMPLE.iterdir()):
        if f.name != "manifest.json":
            shutil.copyfile(f, os.path.join(path, os.fsencode(f.name)))
    for name, how, data in d["edits"]:
        target = os.path.join(path, os.fsencode(name))
        if how != "keep":
            with open(target, "wb" if how == "replace" else "ab") as fh:
                fh.write(data)
            STATS["byte_strings"] += 1
    for name, data in d["extra"]:
        target = os.path.join(path, name)
        if not os.path.lexists(target) and name != b"manifest.json":
            with open(target, "wb") as fh:
                fh.write(data)
            STATS["byte_strings"] += 1
    if d["link_inside"]:
        os.symlink(outside, os.path.join(path, b"linked"))
    mpath = os.path.join(path, b"manifest.json")
    with open(mpath, "wb") as fh:
        fh.write(d["manifest"])
    STATS["manifests"] += 1
    os.utime(mpath, (d["mtime"], d["mtime"]))


def tree(root: bytes) -> tuple:
    """A delivery's full content, comparable: (relative path, kind, bytes or link target), never followed."""
    if os.path.islink(root) or not os.path.isdir(root):
        return (("", *_entry(root)),)
    out = []
    for dirpath, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            out.append((rel, "dir", b"") if os.path.isdir(p) and not os.path.islink(p) else (rel, *_entry(p)))
    return tuple(sorted(out))


def _entry(p: bytes) -> tuple[str, bytes]:
    if os.path.islink(p):
        return ("link", os.readlink(p))
    with open(p, "rb") as fh:
        return ("file", fh.read())


def landing_left(landing: bytes) -> list[bytes]:
    left = []
    for name in os.listdir(landing):
        p = os.path.join(landing, name)
        if os.path.isdir(p) and not os.path.islink(p):
            left += [os.path.join(p, child) for child in os.listdir(p)]
        else:
            left.append(p)
    return left


# ---- the property ----------------------------------------------------------------------------------------


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples on every run (CI): a failure reproduces
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(deliveries(), min_size=1, max_size=3))
def test_no_delivery_can_stop_the_intake_or_harm_another(hostile: list[dict]) -> None:
    with tempfile.TemporaryDirectory(prefix="suptech-fuzz-") as tmp:
        home = Home.resolve(Path(tmp) / "home").ensure()
        outside = os.fsencode(Path(tmp) / "outside")
        os.makedirs(outside)
        with open(os.path.join(outside, b"secret"), "wb") as fh:
            fh.write(b"never followed")
        landing = os.fsencode(home.landing)
        drop_examples(home.landing)
        paths = [build(landing, outside, d) for d in hostile]
        paths = [p for p in paths if p is not None]
        examples = [os.fsencode(home.landing / sid.split("-")[0] / sid) for sid in EXAMPLE_IDS]
        delivered = Counter(tree(p) for p in [*paths, *examples])

        with writer_lock(home), connect_writer(home) as con:
            outcomes = take_in(con, home, clock=CLOCK, backfill=True)  # raises nothing

        STATS["examples"] += 1
        assert landing_left(landing) == []
        assert len(outcomes) == len(paths) + len(EXAMPLE_IDS)
        assert Counter(tree(os.fsencode(o.archive_path)) for o in outcomes) == delivered
        assert tree(outside) == ((b"secret", "file", b"never followed"),)
        check_warehouse(home, outcomes)


def check_warehouse(home: Home, outcomes) -> None:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        recorded = dict(con.execute("select submission_id, status from intake.submissions").fetchall())
        for o in outcomes:
            assert recorded.get(o.submission_id) == o.status, (o.submission_id, o.status, o.reason)
            assert o.reason and len(o.reason) <= 1000
        for sid, rows in EXAMPLE_IDS.items():
            assert recorded[sid] == "RECEIVED"
            n = con.execute("select count(*) from raw.transactions where submission_id = ?", [sid]).fetchone()
            assert n == (rows,), sid
        files = con.execute(
            "select f.submission_id, f.path, f.sha256, s.archive_path "
            "from intake.files f join intake.submissions s using (submission_id)"
        ).fetchall()
        for sid, path, sha, archive_path in files:
            assert not os.path.isabs(archive_path), archive_path
            target = home.root / archive_path / path
            if sha is None:
                assert not target.is_file() or target.is_symlink(), (sid, path)
                continue
            assert hashlib.sha256(target.read_bytes()).hexdigest() == sha, (sid, path)
            STATS["archived_files_checked"] += 1
    finally:
        con.close()


def teardown_module() -> None:
    print(f"\nintake fuzz: {dict(STATS)}")
