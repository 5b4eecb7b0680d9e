"""The synthetic filing generator: packages, manifests, ledger identities recomputed from the written files,
injected cases and their ground truth."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.contracts import load_contracts
from pipelines.synth import selfcheck
from pipelines.synth.inject import DEFAULT_CLASSES, REGISTRY
from pipelines.synth.periods import SHANGHAI, period_of
from pipelines.synth.run import generate
from pipelines.synth.seeds import filing_requirements
from pipelines.synth.truth import read as read_truth
from pipelines.synth.truth import summary_path

CLEAN = {"preset": "tiny", "seed": 3, "inject": "none", "enterprises": 8, "months": 3}


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("clean")
    generate(root / "landing", root / "truth.jsonl", **CLEAN)
    return root / "landing"


@pytest.fixture(scope="module")
def injected(tmp_path_factory) -> tuple[Path, list[dict]]:
    root = tmp_path_factory.mktemp("tiny")
    summary = generate(root / "landing", root / "truth.jsonl", preset="tiny", seed=11)
    assert summary.packages == sum(summary.submissions_per_enterprise.values())
    return root / "landing", read_truth(root / "truth.jsonl")


@pytest.fixture(scope="module")
def clean_db(clean: Path) -> duckdb.DuckDBPyConnection:
    return selfcheck.load(clean)


def _files(landing: Path) -> dict[str, tuple[str, float]]:
    return {
        str(p.relative_to(landing)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime)
        for p in sorted(landing.rglob("*"))
        if p.is_file()
    }


def _manifests(landing: Path) -> list[tuple[Path, dict]]:
    return [
        (p.parent, json.loads(p.read_text(encoding="utf-8")))
        for p in sorted(landing.glob("*/*/manifest.json"))
    ]


def _text(folder: Path, entry: dict) -> str:
    data = (folder / entry["path"]).read_bytes()
    return (gzip.decompress(data) if entry["compression"] == "gzip" else data).decode("utf-8")


def _frame(folder: Path, filing_type: str) -> pl.DataFrame:
    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    entry = next(f for f in m["files"] if f["filing_type"] == filing_type)
    return pl.read_csv(io.StringIO(_text(folder, entry)), infer_schema=False)


def _cents(s: pl.Series) -> pl.Series:
    """Decimal strings (exactly two decimals) to integer cents."""
    assert s.drop_nulls().str.contains(r"^-?[0-9]+\.[0-9]{2}$").all()
    return s.str.replace(".", "", literal=True).cast(pl.Int64)


# ---- determinism -------------------------------------------------------------------------------------------


def test_same_seed_same_bytes_and_times(tmp_path: Path, clean: Path) -> None:
    generate(tmp_path / "landing", tmp_path / "truth.jsonl", **CLEAN)
    assert _files(tmp_path / "landing") == _files(clean)
    assert (tmp_path / "truth.jsonl").read_bytes() == (clean.parent / "truth.jsonl").read_bytes()
    assert (
        summary_path(tmp_path / "truth.jsonl").read_bytes()
        == summary_path(clean.parent / "truth.jsonl").read_bytes()
    )


def test_other_seed_other_data(tmp_path: Path, clean: Path) -> None:
    generate(tmp_path / "landing", tmp_path / "truth.jsonl", **{**CLEAN, "seed": 4, "months": 1})
    a = next((clean / "PAY0001" / "PAY0001-2026-07-v1").glob("transactions.csv*")).read_bytes()
    b_dir = tmp_path / "landing" / "PAY0001" / "PAY0001-2026-07-v1"
    b = next(b_dir.glob("transactions.csv*")).read_bytes()
    assert a != b


def test_refuses_to_overwrite(clean: Path) -> None:
    with pytest.raises(FileExistsError):
        generate(clean, clean.parent / "again.jsonl", **CLEAN)


# ---- packages and manifests --------------------------------------------------------------------------------


def test_packages_and_manifests(clean: Path) -> None:
    contracts = load_contracts()
    packages = _manifests(clean)
    assert len(packages) == 8 * 3
    for folder, m in packages:
        eid, period = m["enterprise_id"], m["period"]
        assert folder.name == m["submission_id"] == f"{eid}-{period}-v{m['version']}"
        assert folder.parent.name == eid
        assert m["spec_version"] == "1.0" and m["version"] == 1 and m["supersedes"] is None
        assert datetime.fromisoformat(m["submitted_at"]).utcoffset() == timedelta(hours=8)
        owed = filing_requirements()[eid[:-4]]
        assert [f["filing_type"] for f in m["files"]] == list(owed)
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            [f["path"] for f in m["files"]] + ["manifest.json"]
        )
        for f in m["files"]:
            data = (folder / f["path"]).read_bytes()
            assert f["sha256"] == hashlib.sha256(data).hexdigest()
            assert f["format"] == "csv" and f["encoding"] == "utf-8"
            assert (f["compression"] == "gzip") == f["path"].endswith(".csv.gz")
            lines = _text(folder, f).split("\n")
            assert lines[-1] == "" and lines[0].split(",") == contracts[f["filing_type"]].column_names
            assert len(lines) - 2 == f["row_count"]
            totals = f.get("control_totals", {})
            assert sorted(totals) == sorted(contracts[f["filing_type"]].control_totals)
            frame = pl.read_csv(io.StringIO(_text(folder, f)), infer_schema=False)
            for col, total in totals.items():
                assert Decimal(total) == sum((Decimal(v) for v in frame[col].drop_nulls()), Decimal("0.00"))
                assert total == f"{Decimal(total):.2f}"
        # the manifest carries the scheduled delivery time: between the 1st and 9th day after period end
        p = period_of(period)
        stamp = datetime.fromtimestamp((folder / "manifest.json").stat().st_mtime, SHANGHAI)
        assert stamp == datetime.fromisoformat(m["submitted_at"])
        assert p.last + timedelta(days=1) <= stamp.date() <= p.last + timedelta(days=9)


def test_transactions_compressed_sometimes(clean: Path) -> None:
    kinds = {
        f["compression"]
        for _, m in _manifests(clean)
        for f in m["files"]
        if f["filing_type"] == "transactions"
    }
    assert kinds == {"gzip", "none"}


def test_value_formats(clean: Path) -> None:
    folder = clean / "PAY0002" / "PAY0002-2026-08-v1"
    tx = _frame(folder, "transactions")
    assert tx["booked_at"].str.contains(r"^2026-08-\d\dT\d\d:\d\d:\d\d\+08:00$").all()
    assert set(tx["is_cross_border"].unique()) <= {"true", "false"}
    assert (_cents(tx["amount_cny"]) > 0).all()
    parties = _frame(folder, "parties")
    assert parties["id_hash"].str.contains(r"^[0-9a-f]{64}$").all()
    natural = parties.filter(pl.col("party_type") == "natural")
    assert natural["kyc_class"].is_not_null().all() and natural["sector_code"].is_null().all()
    legal = parties.filter(pl.col("party_type") == "legal")
    assert legal["sector_code"].is_not_null().all()
    assert (parties["country"] == "CN").eq(parties["region_code"].is_not_null()).all()
    assert (parties["country"] != "CN").any()
    profile = _frame(folder, "enterprise_profile")
    assert profile.height == 1 and profile["ent_type"][0] == "PAY"
    from pipelines.quality.uscc import is_valid

    assert is_valid(profile["uscc"][0])


# ---- ledger identities, recomputed from the files ----------------------------------------------------------


def _legs(folder: Path) -> pl.DataFrame:
    tx = _frame(folder, "transactions")
    return tx.filter(pl.col("status") == "ok").with_columns(
        amt=_cents(tx.filter(pl.col("status") == "ok")["amount_cny"])
    )


def _rollforward_problems(folder: Path) -> list[str]:
    """Balances against the legs: arithmetic, daily continuity, credits/debits per row (own accounts: bank legs
    of the day; customer accounts: customer legs of the period)."""
    bal = _frame(folder, "account_balances")
    acc = _frame(folder, "accounts").select("account_id", "account_class")
    bal = bal.join(acc, on="account_id").with_columns(
        **{c: _cents(bal[c]) for c in ("opening", "credits", "debits", "closing")}
    )
    problems = []
    if bal.filter(pl.col("closing") != pl.col("opening") + pl.col("credits") - pl.col("debits")).height:
        problems.append("arithmetic")
    own = bal.filter(~pl.col("account_class").str.starts_with("CUSTOMER")).sort("account_id", "biz_date")
    gap = own.with_columns(prev=pl.col("closing").shift(1).over("account_id")).filter(
        pl.col("prev").is_not_null() & (pl.col("prev") != pl.col("opening"))
    )
    if gap.height:
        problems.append("continuity")
    legs = _legs(folder)
    for leg, cls_filter, keys in (
        ("bank", ~pl.col("account_class").str.starts_with("CUSTOMER"), ["account_id", "biz_date"]),
        ("customer", pl.col("account_class").str.starts_with("CUSTOMER"), ["account_id"]),
    ):
        sub = legs.filter(pl.col("leg") == leg)
        cr = sub.group_by(
            pl.col("credit_account_id").alias("account_id"), pl.col("value_date").alias("biz_date")
        ).agg(cr=pl.col("amt").sum())
        dr = sub.group_by(
            pl.col("debit_account_id").alias("account_id"), pl.col("value_date").alias("biz_date")
        ).agg(dr=pl.col("amt").sum())
        if leg == "customer":
            cr = cr.group_by("account_id").agg(pl.col("cr").sum())
            dr = dr.group_by("account_id").agg(pl.col("dr").sum())
        rows = bal.filter(cls_filter).join(cr, on=keys, how="left").join(dr, on=keys, how="left")
        bad = rows.filter(
            (pl.col("credits") != pl.col("cr").fill_null(0)) | (pl.col("debits") != pl.col("dr").fill_null(0))
        )
        if bad.height:
            problems.append(f"{leg} legs: {bad.head(3)}")
    return problems


def test_balances_roll_forward_from_the_legs(clean: Path) -> None:
    for folder, _ in _manifests(clean):
        assert _rollforward_problems(folder) == [], folder.name


def test_first_opening_is_last_closing(clean: Path) -> None:
    for eid_dir in sorted(clean.iterdir()):
        folders = sorted(eid_dir.iterdir())
        for before, after in zip(folders, folders[1:], strict=False):
            last = (
                _frame(before, "account_balances")
                .sort("biz_date")
                .group_by("account_id")
                .agg(pl.col("closing").last())
            )
            first = (
                _frame(after, "account_balances")
                .sort("biz_date")
                .group_by("account_id")
                .agg(pl.col("opening").first())
            )
            joined = first.join(last, on="account_id", how="left")
            carried = joined.filter(pl.col("closing").is_not_null())
            assert (carried["opening"] == carried["closing"]).all(), after.name
            new = joined.filter(pl.col("closing").is_null())
            assert (new["opening"] == "0.00").all(), after.name  # a new account opens at 0
            assert carried.height > 0.8 * joined.height


def _customer_totals(folder: Path) -> pl.DataFrame:
    """Derived daily customer total: the openings plus the cumulative net ok customer-leg flow."""
    bal = _frame(folder, "account_balances")
    acc = _frame(folder, "accounts").select("account_id", "account_class")
    customer = set(acc.filter(pl.col("account_class").str.starts_with("CUSTOMER"))["account_id"])
    opening = int(_cents(bal.filter(pl.col("account_id").is_in(customer))["opening"]).sum())
    legs = _legs(folder).filter(pl.col("leg") == "customer")
    flow = (
        legs.with_columns(
            net=pl.when(pl.col("credit_account_id").is_in(customer)).then(pl.col("amt")).otherwise(0)
            - pl.when(pl.col("debit_account_id").is_in(customer)).then(pl.col("amt")).otherwise(0)
        )
        .group_by("value_date")
        .agg(pl.col("net").sum())
    )
    own = bal.join(acc, on="account_id").filter(
        pl.col("account_class").is_in(["RESERVE_CENTRAL", "RESERVE_BANK", "CUSTODY_SUMMARY"])
    )
    backing = (
        own.with_columns(b=_cents(own["bank_confirmed_closing"]))
        .group_by("biz_date")
        .agg(backing=pl.col("b").sum())
    )
    days = backing.sort("biz_date").join(flow.rename({"value_date": "biz_date"}), on="biz_date", how="left")
    return days.with_columns(total=opening + pl.col("net").fill_null(0).cum_sum())


def test_reserves_and_custody_equal_customer_money_every_day(clean: Path) -> None:
    for folder, m in _manifests(clean):
        days = _customer_totals(folder)
        assert days.height == period_of(m["period"]).ndays
        assert (days["total"] > 0).all()
        # clean data: reserves (PAY) and custody (others) hold exactly the customers' money, every day
        assert (days["backing"] == days["total"]).all(), folder.name
        if m["enterprise_id"].startswith(("PAY", "WM")):
            liq = _frame(folder, "liquidity").sort("as_of_date")
            split = _cents(liq["customer_bal_stable"]) + _cents(liq["customer_bal_less_stable"])
            assert split.to_list() == days["total"].to_list()


def test_selfcheck_finds_nothing_on_clean_data(clean: Path, clean_db: duckdb.DuckDBPyConnection) -> None:
    assert {k: v for k, v in selfcheck.run_checks(clean_db).items() if v} == {}
    selfcheck.coverage(clean_db)
    assert clean_db.execute("select count(*) from coverage where ratio <> 1").fetchall()[0][0] == 0
    assert [p for f, _ in _manifests(clean) for p in selfcheck.manifest_problems(f)] == []


def test_loans_and_positions(clean_db: duckdb.DuckDBPyConnection) -> None:
    counts = clean_db.execute(
        "select count(*), count(*) filter (where status = 'overdue'), count(distinct status) from loans"
    ).fetchall()[0]
    assert counts[0] > 50 and counts[1] > 0  # a real book, with some delinquency
    assert clean_db.execute("select max(apr_comprehensive) from loans").fetchall()[0][0] <= Decimal("0.36")
    # days past due, overdue principal and status agree
    bad = clean_db.execute(
        """select count(*) from loans where (days_past_due > 0) <> (status = 'overdue')
           or (overdue_principal > 0) <> (days_past_due > 0) or overdue_principal > outstanding_principal"""
    ).fetchall()[0][0]
    assert bad == 0


def test_every_large_value_transaction_is_reported(clean_db: duckdb.DuckDBPyConnection) -> None:
    """X-10: legs large on their own or in their party's day total (per side and kind) have an LVTR within
    three calendar days (so within 5 working days), in this or the next period's filing."""
    missing = clean_db.execute(
        """
        with l as (select t.submission_id, t.txn_id, t.value_date, t.amount_cny, t.payer_party_id as party,
                          'payer' as side, t.is_cross_border, t.channel from transactions t
                   where leg = 'customer' and status = 'ok' and payer_party_id is not null
                   union all
                   select t.submission_id, t.txn_id, t.value_date, t.amount_cny, t.payee_party_id, 'payee',
                          t.is_cross_border, t.channel from transactions t
                   where leg = 'customer' and status = 'ok' and payee_party_id is not null),
        k as (select l.*, s.enterprise_id, case when channel = 'cash' then 50000 when p.party_type = 'legal'
                     then 2000000 when is_cross_border then 200000 else 500000 end as threshold
              from l join parties p on p.submission_id = l.submission_id and p.party_id = l.party
              join submissions s on s.submission_id = l.submission_id),
        big as (select * from (select *, sum(amount_cny) over (partition by submission_id, party, side, value_date,
                threshold) as day_total from k) where amount_cny >= threshold or day_total >= threshold),
        rep as (select s.enterprise_id, a.txn_id, a.submitted_date from aml_reports a
                join submissions s using (submission_id) where report_type = 'LVTR')
        select count(*) from big b where not exists (select 1 from rep r where r.enterprise_id = b.enterprise_id
            and r.txn_id = b.txn_id and r.submitted_date between b.value_date and b.value_date + 3)
          and b.value_date < (select max(last_day(strptime(period || '-01', '%Y-%m-%d')::date)) from submissions)
        """
    ).fetchall()[0][0]
    assert missing == 0
    assert clean_db.execute("select count(*) from aml_reports").fetchall()[0][0] > 0


def test_complaints_and_incidents(clean_db: duckdb.DuckDBPyConnection) -> None:
    assert clean_db.execute("select count(*) from complaints").fetchall()[0][0] > 0
    late = clean_db.execute(
        "select count(*) from complaints where closed_at > received_at + interval 15 day"
    ).fetchall()[0][0]
    assert late == 0
    # an open complaint is filed again next period (closed or still open)
    assert (
        clean_db.execute(
            """select count(*) from (select complaint_id from complaints group by 1 having count(*) > 1)"""
        ).fetchall()[0][0]
        > 0
    )
    assert (
        clean_db.execute(
            """select count(*) from incidents where reported_at > detected_at + interval 24 hour
           or ended_at > started_at + interval 2 hour"""
        ).fetchall()[0][0]
        == 0
    )


# ---- injected cases and their ground truth ----------------------------------------------------------------


def _fitting_enterprises() -> dict[str, set[str]]:
    """The enterprises of the injected fixture's market (tiny, seed 11) each class may go into."""
    from pipelines.synth.population import plan_market
    from pipelines.synth.presets import PRESETS

    tiny = PRESETS["tiny"]
    plans = plan_market(11, tiny.enterprises, tiny.legs_per_month)
    return {
        cls: {
            p.enterprise_id
            for p in plans
            if p.ent_type in inj.ent_types
            and p.peers >= inj.min_peers
            and any(inj.eligible(p, i) for i in range(int(inj.needs_history), tiny.months))
        }
        for cls, inj in REGISTRY.items()
    }


def test_truth_file_lists_every_class(injected) -> None:
    _, truth = injected
    by_class: dict[str, list[dict]] = {}
    for case in truth:
        assert set(case) == {
            "case_id",
            "class",
            "enterprise_id",
            "period",
            "submission_id",
            "expected",
            "records",
            "parties",
        }
        by_class.setdefault(case["class"], []).append(case)
    # volume-bound classes (busy hours, a large loan book) fit only the few enterprises large enough
    fitting = _fitting_enterprises()
    assert set(by_class) == {cls for cls in DEFAULT_CLASSES if fitting[cls]}
    for cls, cases in by_class.items():
        assert len(cases) >= 2, cls
        assert len({c["enterprise_id"] for c in cases}) >= min(2, len(fitting[cls])), cls
        assert all(c["expected"] == list(REGISTRY[cls].expected) for c in cases), cls
        # the flagged version: v1, or the v2 of a resubmission whose drift is the irregularity
        assert all(c["submission_id"].startswith(f"{c['enterprise_id']}-{c['period']}-v") for c in cases)
    slots: dict[tuple[str, str], list[str]] = {}
    for c in truth:
        slots.setdefault((c["enterprise_id"], c["period"]), []).append(c["class"])
    for classes in slots.values():  # two classes share a submission only when both stack
        assert len(classes) == 1 or all(REGISTRY[c].stackable for c in classes), classes
    assert len({c["case_id"] for c in truth}) == len(truth)


def _cases(truth: list[dict], cls: str) -> list[dict]:
    return [c for c in truth if c["class"] == cls]


def _mtime(folder: Path) -> datetime:
    return datetime.fromtimestamp((folder / "manifest.json").stat().st_mtime, SHANGHAI)


def test_broken_versions_are_followed_by_a_correct_one(injected) -> None:
    landing, truth = injected
    for case in _cases(truth, "syntax.checksum_mismatch") + _cases(truth, "validity.balance_arithmetic"):
        eid = case["enterprise_id"]
        v1 = landing / eid / case["submission_id"]
        v2 = landing / eid / f"{eid}-{case['period']}-v2"
        m2 = json.loads((v2 / "manifest.json").read_text(encoding="utf-8"))
        assert m2["version"] == 2 and m2["supersedes"] == case["submission_id"]
        due = period_of(case["period"]).due_at(eid[:-4])
        assert _mtime(v1) < _mtime(v2) <= due
        assert selfcheck.manifest_problems(v2) == []


def test_checksum_mismatch_breaks_only_one_checksum(injected) -> None:
    landing, truth = injected
    for case in _cases(truth, "syntax.checksum_mismatch"):
        v1 = landing / case["enterprise_id"] / case["submission_id"]
        assert selfcheck.manifest_problems(v1) == [f"{v1.name}/parties.csv: sha256"]
        v2 = v1.parent / f"{case['enterprise_id']}-{case['period']}-v2"
        changed = [
            f.name
            for f in v1.iterdir()
            if f.name != "manifest.json" and f.read_bytes() != (v2 / f.name).read_bytes()
        ]
        assert changed == ["parties.csv"]


def test_balance_arithmetic_breaks_only_the_listed_row(injected) -> None:
    landing, truth = injected
    for case in _cases(truth, "validity.balance_arithmetic"):
        [key] = case["records"]["account_balances"]
        account, day = key.split("|")
        v1 = landing / case["enterprise_id"] / case["submission_id"]
        bal = _frame(v1, "account_balances")
        bal = bal.with_columns(**{c: _cents(bal[c]) for c in ("opening", "credits", "debits", "closing")})
        broken = bal.filter(pl.col("closing") != pl.col("opening") + pl.col("credits") - pl.col("debits"))
        assert broken.select("account_id", "biz_date").rows() == [(account, day)]
        assert _rollforward_problems(v1) == ["arithmetic"]  # the legs still match credits and debits
        assert selfcheck.manifest_problems(v1) == []  # control totals and checksums re-derived
        v2 = v1.parent / f"{case['enterprise_id']}-{case['period']}-v2"
        assert _rollforward_problems(v2) == []


def test_reserve_shortfall_is_coherent(injected) -> None:
    landing, truth = injected
    for case in _cases(truth, "supervisory.reserve_shortfall"):
        folder = landing / case["enterprise_id"] / case["submission_id"]
        assert _rollforward_problems(folder) == []
        days = _customer_totals(folder).with_columns(ratio=pl.col("backing") / pl.col("total"))
        short = days.filter(pl.col("ratio") < 1)
        assert 1 <= short.height < days.height
        assert short["ratio"].min() >= 0.85 and short["ratio"].min() <= 0.97
        assert days["ratio"].max() == 1.0
        # the money went to an outside counterparty and came back, never through OWN_FUNDS
        legs = _legs(folder)
        moved = legs.filter(
            pl.col("payee_party_id").is_in(case["parties"]) | pl.col("payer_party_id").is_in(case["parties"])
        )
        assert moved.height == 2 and set(moved["leg"]) == {"bank"}
        assert moved["amt"][0] == moved["amt"][1]
        parties = _frame(folder, "parties").filter(pl.col("party_id").is_in(case["parties"]))
        assert parties["is_related_party"].to_list() == ["false"]


def test_complaint_spike_is_five_times_the_usual(injected) -> None:
    landing, truth = injected
    for case in _cases(truth, "supervisory.complaint_spike"):
        eid = case["enterprise_id"]
        counts = {}
        for folder in sorted((landing / eid).iterdir()):
            period = folder.name.split("-", 1)[1].rsplit("-", 1)[0]
            c = _frame(folder, "complaints")
            counts[period] = c.filter(pl.col("received_at").str.starts_with(period)).height
        spike = counts.pop(case["period"])
        usual = sorted(counts.values())[len(counts) // 2]
        assert spike >= 10 and spike >= 3 * max(usual, 1), (spike, counts)


def test_late_packages_arrive_after_the_due_time(injected) -> None:
    landing, truth = injected
    late = _cases(truth, "timeliness.late")
    for case in late:
        folder = landing / case["enterprise_id"] / case["submission_id"]
        due = period_of(case["period"]).due_at(case["enterprise_id"][:-4])
        assert due + timedelta(days=1) <= _mtime(folder) <= due + timedelta(days=10)
        assert not (folder.parent / f"{case['enterprise_id']}-{case['period']}-v2").exists()
    late_ids = {c["submission_id"] for c in late}
    for folder, m in _manifests(landing):
        if folder.name not in late_ids:
            assert _mtime(folder) <= period_of(m["period"]).due_at(m["enterprise_id"][:-4])


def test_injections_leave_other_submissions_clean(injected) -> None:
    landing, truth = injected
    con = selfcheck.load(landing)
    cased = {(c["enterprise_id"], c["period"]) for c in truth}
    injected = {
        sid
        for (sid,) in con.execute("select distinct submission_id from enterprise_profile").fetchall()
        if tuple(sid.rsplit("-v", 1)[0].split("-", 1)) in cased
    }
    assert {k: v for k, v in selfcheck.run_checks(con, exclude=injected).items() if v} == {}
    selfcheck.coverage(con)
    below = con.execute("select distinct enterprise_id, period from coverage where ratio < 1").fetchall()
    assert sorted(below) == sorted(  # exactly the cases meant to leave customer money uncovered
        {(c["enterprise_id"], c["period"]) for c in truth if {"RES-001", "SEG-001"} & set(c["expected"])}
    )


def test_only_named_classes(tmp_path: Path) -> None:
    summary = generate(
        tmp_path / "l",
        tmp_path / "t.jsonl",
        preset="tiny",
        seed=1,
        enterprises=8,
        months=2,
        inject=["timeliness.late"],
    )
    assert set(summary.cases_per_class) == {"timeliness.late"}
    with pytest.raises(ValueError, match="unknown irregularity"):
        generate(
            tmp_path / "m", tmp_path / "u.jsonl", preset="tiny", enterprises=4, months=1, inject=["no.such"]
        )


def test_manifest_written_last(clean: Path) -> None:
    # no temp names left behind; the manifest is not older than the files it lists
    assert not list(clean.rglob(".manifest*"))
    for folder, _ in _manifests(clean):
        assert all(
            os.stat(f).st_mtime <= os.stat(folder / "manifest.json").st_mtime for f in folder.iterdir()
        )
