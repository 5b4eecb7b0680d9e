"""Suspicious transaction reports of the clean generator (AML-008 has STRs to count) and month-end LVTRs
that a missing next filing would strand (AML-001 on the period before a timeliness.missing case)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pipelines.synth import aml, engine, selfcheck
from pipelines.synth.inject import DEFAULT_CLASSES
from pipelines.synth.inject.planner import plan_cases
from pipelines.synth.periods import period_of
from pipelines.synth.periods import periods as make_periods
from pipelines.synth.population import plan_market
from pipelines.synth.presets import PRESETS
from pipelines.synth.run import generate

SEP = period_of("2026-09")
CNY = 100


def _legs(rows: list[tuple[int, int, int, int, bool, bool]]) -> pl.DataFrame:
    """(payer, payee, CNY, day, customer leg, failed) -> legs numbered T1, T2, ... in that order."""
    payer, payee, amt, day, cust, failed = (list(c) for c in zip(*rows, strict=True))
    n = len(rows)
    return pl.DataFrame(
        {
            "txn_no": np.arange(1, n + 1),
            "txn_id": [f"T{k}" for k in range(1, n + 1)],
            "payer": payer,
            "payee": payee,
            "amt": [a * CNY for a in amt],
            "day": day,
            "cust": cust,
            "failed": failed,
        }
    )


def test_str_on_the_raised_party_with_its_five_largest_legs() -> None:
    legs = _legs(
        [
            (-1, 1, 30_000, 3, True, False),  # T1 party 1 in
            (-1, 1, 40_000, 4, True, False),  # T2 in: 70,000 in
            (1, -1, 20_000, 5, True, False),  # T3 out
            (1, -1, 10_000, 6, True, False),  # T4
            (1, -1, 15_000, 7, True, False),  # T5
            (1, -1, 8_000, 8, True, False),  # T6
            (1, -1, 5_000, 9, True, False),  # T7: 58,000 out -> raised
            (-1, 2, 100_000, 2, True, False),  # T8 party 2: in only
            (2, -1, 10_000, 3, True, False),  # T9
            (-1, 3, 60_000, 2, True, False),  # T10 party 3: its outflow failed
            (3, -1, 60_000, 3, True, True),  # T11
            (-1, 4, 90_000, 2, False, False),  # T12 party 4: not customer legs
            (4, -1, 90_000, 3, False, False),  # T13
        ]
    )
    r, nxt = aml.suspicious(np.random.default_rng(0), legs, SEP, start_seq=7)
    assert nxt == 8
    t = aml.table(r, "WM0001", "STR")
    assert t["txn_id"].to_list() == ["T1", "T2", "T3", "T4", "T5"]  # the five largest, not T6/T7
    assert set(t["report_id"]) == {"WM0001-ST000008"}
    assert set(t["report_type"]) == {"STR"} and set(t["rule_code"]) == {"ST-IO"}
    assert set(t["party_id"]) == {"P0000002"}  # party index 1
    detected, submitted = t["detected_date"][0], t["submitted_date"][0]
    assert date(2026, 9, 9) <= detected <= date(2026, 9, 11)  # 1-3 days after the last reported leg (day 7)
    assert detected <= submitted <= min(detected + timedelta(days=2), date(2026, 9, 30))


def test_str_of_the_last_day_is_filed_by_the_period_end() -> None:
    legs = _legs([(-1, 5, 50_000, 0, True, False), (5, 6, 50_000, 29, True, False)])  # day 29 = Sep 30
    r, nxt = aml.suspicious(np.random.default_rng(1), legs, SEP, start_seq=0)
    t = aml.table(r, "PAY0001", "STR")
    assert nxt == 1 and t["txn_id"].to_list() == ["T1", "T2"]
    assert set(t["detected_date"]) == set(t["submitted_date"]) == {date(2026, 9, 30)}


def test_no_str_below_the_floor() -> None:
    legs = _legs([(-1, 1, 49_999, 1, True, False), (1, -1, 49_999, 2, True, False)])
    r, nxt = aml.suspicious(np.random.default_rng(0), legs, SEP, start_seq=3)
    assert nxt == 3 and aml.table(r, "CF0001", "STR").height == 0


@pytest.fixture(scope="module")
def clean_db(tmp_path_factory):
    root = tmp_path_factory.mktemp("str")
    generate(
        root / "landing", root / "truth.jsonl", preset="tiny", seed=5, inject="none", enterprises=8, months=2
    )
    return selfcheck.load(root / "landing")


def test_generated_strs_name_their_own_transactions(clean_db) -> None:
    """Every STR row names an ok customer leg of its own submission with the reported party on it, is
    submitted within the period, and every enterprise-period whose rule raised a party files one."""
    n, bad = clean_db.execute(
        """select count(*), count(*) filter (where not exists (
               select 1 from transactions t where t.submission_id = a.submission_id and t.txn_id = a.txn_id
               and t.leg = 'customer' and t.status = 'ok' and a.party_id in (t.payer_party_id, t.payee_party_id))
               or strftime(a.submitted_date, '%Y-%m') <> s.period or a.detected_date > a.submitted_date)
           from aml_reports a join submissions s using (submission_id) where a.report_type = 'STR'"""
    ).fetchone()
    assert n > 0 and bad == 0
    floor = aml.ST_FLOOR / CNY
    unreported = clean_db.execute(
        f"""with f as (
                select submission_id, payee_party_id as party, amount_cny as i, 0 as o from transactions
                where leg = 'customer' and status = 'ok' and payee_party_id is not null
                union all
                select submission_id, payer_party_id, 0, amount_cny from transactions
                where leg = 'customer' and status = 'ok' and payer_party_id is not null),
            raised as (select distinct submission_id from f group by submission_id, party
                       having least(sum(i), sum(o)) >= {floor})
            select count(*) from raised r where not exists (select 1 from aml_reports a
                where a.submission_id = r.submission_id and a.report_type = 'STR')"""
    ).fetchone()[0]
    assert unreported == 0


def test_no_lvtr_is_left_to_a_filing_that_never_comes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small seed 3 plans timeliness.missing for WM0006 and WM0018 in 2026-10: their September LVTRs of
    month-end transactions are filed in September (before, they went to the October tables that are never
    delivered, and AML-001 breached September with no case there)."""
    p = PRESETS["small"]
    plans = plan_market(3, p.enterprises, p.legs_per_month)
    periods = make_periods("2026-07", p.months)
    cases = plan_cases(3, plans, periods, list(DEFAULT_CLASSES))
    unreported: set[str] = set()  # the LVTR aml.unreported_large_value leaves out (WM0018, 2026-09)
    reported_by_own_end: dict[str, bool] = {}  # period -> aml.report's last_period
    real_report = aml.report

    def spy(*args, **kwargs):
        reported_by_own_end[args[3].label] = kwargs["last_period"]
        return real_report(*args, **kwargs)

    monkeypatch.setattr(aml, "report", spy)
    for eid in ("WM0006", "WM0018"):
        plan = next(x for x in plans if x.enterprise_id == eid)
        mine = {i: cs for (e, i), cs in cases.items() if e == plan.index}
        assert [c.cls for c in mine[3]] == ["timeliness.missing"]
        result = engine.run(engine.Job(plan, 3, periods, tmp_path, mine, gzip_transactions=False))
        # September (followed by the never-filed October) reports its month-end LVTRs itself; August does not
        assert (
            reported_by_own_end[periods[2].label] is True and reported_by_own_end[periods[1].label] is False
        )
        unreported |= {
            t
            for c in result.cases
            if c.cls == "aml.unreported_large_value"
            for t in c.records["transactions"]
        }
    db = selfcheck.load(tmp_path)
    assert db.execute("select count(*) from submissions where period = '2026-10'").fetchone()[0] == 0
    # every September large-value leg (alone or in its party's day total per side) has its LVTR in September
    stranded, month_end = db.execute(
        """with l as (select t.*, t.payer_party_id as party, 'payer' as side from transactions t
                      union all
                      select t.*, t.payee_party_id, 'payee' from transactions t),
            k as (select l.*, case when channel = 'cash' then 50000 when p.party_type = 'legal' then 2000000
                      when is_cross_border then 200000 else 500000 end as threshold
                  from l join parties p on p.submission_id = l.submission_id and p.party_id = l.party
                  where l.leg = 'customer' and l.status = 'ok'),
            big as (select * from (select *, sum(amount_cny) over (partition by submission_id, party, side,
                        value_date, threshold) as day_total from k)
                    where amount_cny >= threshold or day_total >= threshold)
            select list(distinct b.txn_id) filter (where not exists (select 1 from aml_reports a
                       where a.submission_id = b.submission_id and a.report_type = 'LVTR' and a.txn_id = b.txn_id)),
                   count(*) filter (where b.value_date >= date '2026-09-29')
            from big b join submissions s using (submission_id) where s.period = '2026-09'"""
    ).fetchone()
    assert month_end > 0  # the case the fix is about: legs whose LVTR would be due in October
    assert len(unreported) == 1 and set(stranded) == unreported
