"""Each syntax injector, applied to the spec's PAY0001 example, gives a package the intake finds MALFORMED
for exactly the intended S rule (nothing else breaks: checksums and counts follow the edited bytes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from pipelines.home import Home
from pipelines.intake.service import take_in
from pipelines.synth.inject import REGISTRY, Case, Context
from pipelines.synth.inject.syntax_bad_type import _thousands
from pipelines.warehouse.db import connect_writer, writer_lock
from tests.badinput.catalog import start, write_manifest

CLOCK = datetime(2026, 11, 21, tzinfo=UTC)
EXPECTED = {
    "syntax.missing_manifest_file": "S007",
    "syntax.row_count_mismatch": "S010",
    "syntax.undeclared_encoding": "S013",
    "syntax.missing_column": "S014",
    "syntax.checksum_mismatch": "S009",
}


def _break(home: Home, cls: str, ent: str, seed: int) -> str:
    pkg = start(home.landing, ent)
    manifest = json.loads((pkg / "manifest.json").read_text(encoding="utf-8"))
    case = Case("c1", cls, ent, "2026-10", pkg.name, list(REGISTRY[cls].expected))
    ctx = Context(case=case, plan=None, period=None, rng=np.random.default_rng(seed), state=None)
    REGISTRY[cls].break_files(ctx, pkg, manifest)
    write_manifest(pkg, manifest)
    return pkg.name


def _intake(home: Home) -> dict[str, tuple[str, set[str]]]:
    with writer_lock(home), connect_writer(home) as con:
        outcomes = take_in(con, home, clock=CLOCK, backfill=True)
        rules = dict(
            con.execute(
                "select submission_id, list(distinct rule_id) from quality.findings group by 1"
            ).fetchall()
        )
    return {o.submission_id: (o.status, set(rules.get(o.submission_id, []))) for o in outcomes}


def test_thousands_separator() -> None:
    assert _thousands("1234567.80") == "1,234,567.80"
    assert _thousands("-1234.05") == "-1,234.05"
    assert _thousands("999.00") == "999.00"


def test_each_syntax_injector_breaks_exactly_its_rule(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path / "home").ensure()
    sids = {cls: _break(home, cls, f"PAY{4001 + i}", 0) for i, cls in enumerate(sorted(EXPECTED))}
    # bad_type: both variants (a dd/mm/yyyy date, a money with thousands separators) over a few seeds
    bad_type = [_break(home, "syntax.bad_type", f"PAY{4101 + s}", s) for s in range(4)]
    got = _intake(home)
    for cls, sid in sids.items():
        assert got[sid] == ("MALFORMED", {EXPECTED[cls]}), (cls, got[sid])
    for sid in bad_type:
        assert got[sid] == ("MALFORMED", {"S015"}), got[sid]


@pytest.mark.parametrize("seed", [0, 1])
def test_undeclared_gbk_bytes_are_invalid_utf8(tmp_path: Path, seed: int) -> None:
    home = Home.resolve(tmp_path / "home").ensure()
    sid = _break(home, "syntax.undeclared_encoding", "PAY4201", seed)
    data = (home.landing / "PAY4201" / sid / "enterprise_profile.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert data.decode("gbk").splitlines()[1].split(",")[2] == "示例支付科技有限公司"
