"""Quality and sudden-jump injections (issue 4): each case shows in the written files as its ground truth
says, and nowhere else (tiny market, seed 11, only these classes). The statistics are those of rule Q001,
FQ-007 and rule M009, computed here from the files."""

from __future__ import annotations

import statistics
from collections import Counter

import duckdb
import pytest

from pipelines.quality.thresholds import threshold
from pipelines.synth import selfcheck
from pipelines.synth.inject import REGISTRY
from pipelines.synth.inject.planner import plan_cases
from pipelines.synth.periods import periods as make_periods
from pipelines.synth.population import plan_market
from pipelines.synth.presets import PRESETS
from pipelines.synth.run import generate
from pipelines.synth.truth import read as read_truth

CLASSES = ["quality.round_numbers", "quality.copy_forward", "quality.benford", "macro.sudden_jump"]

OK_AMOUNTS = "from transactions where leg = 'customer' and status = 'ok' and amount_cny > 0"
# Q001's mean absolute deviation of the first digits from Benford's law, per submission with n >= 1000
MAD = f"""
with d as (
    select submission_id, ltrim(replace(cast(amount_cny as varchar), '.', ''), '0')[1]::int as digit
    {OK_AMOUNTS}
),
n as (select submission_id, count(*) as n from d group by all having count(*) >= ?),
k as (
    select n.submission_id, n.n, g.digit, count(d.digit) as k
    from n cross join (select unnest(range(1, 10)) as digit) g
    left join d on d.submission_id = n.submission_id and d.digit = g.digit
    group by all
)
select submission_id, avg(abs(k / n - log10(1 + 1 / digit))) from k group by all"""


@pytest.fixture(scope="module")
def market(tmp_path_factory) -> tuple[duckdb.DuckDBPyConnection, list[dict]]:
    root = tmp_path_factory.mktemp("quality")
    generate(root / "landing", root / "truth.jsonl", preset="tiny", seed=11, inject=CLASSES)
    return selfcheck.load(root / "landing", current_only=False), read_truth(root / "truth.jsonl")


def _cases(truth: list[dict], cls: str) -> list[dict]:
    cases = [c for c in truth if c["class"] == cls]
    assert len(cases) == 2, cls
    return cases


def _current(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("select submission_id from current_submissions").fetchall()}


def test_every_class_is_injected_with_its_expected_ids(market) -> None:
    _, truth = market
    assert {c["class"] for c in truth} == set(CLASSES)
    expected = {c["class"]: c["expected"] for c in truth}
    assert expected == {
        "quality.round_numbers": ["FQ-007"],
        "quality.copy_forward": ["X-01", "FQ-007"],
        "quality.benford": ["FQ-005"],
        "macro.sudden_jump": ["FQ-006"],
    }


def test_round_numbers_only_in_the_cases(market) -> None:
    con, truth = market
    unit = threshold("FQ-007", "round_unit")
    shares = dict(
        con.execute(
            f"select submission_id, avg((amount_cny % ? = 0)::int) {OK_AMOUNTS} group by all", [unit]
        ).fetchall()
    )
    cases = {c["submission_id"] for c in _cases(truth, "quality.round_numbers")}
    assert all(shares[s] >= 0.3 for s in cases), {s: shares[s] for s in cases}
    assert max(v for s, v in shares.items() if s not in cases) < 0.1
    # the padded amounts keep Benford's first digits: FQ-005 does not fire there
    mads = dict(con.execute(MAD, [int(threshold("FQ-005", "min_amounts"))]).fetchall())
    assert all(mads.get(s, 0) <= threshold("FQ-005", "max_mad") for s in cases)


def test_benford_deviates_only_in_the_cases(market) -> None:
    con, truth = market
    mads = dict(con.execute(MAD, [int(threshold("FQ-005", "min_amounts"))]).fetchall())
    cases = {c["submission_id"] for c in _cases(truth, "quality.benford")}
    assert cases <= set(mads)  # each case has at least min_amounts amounts
    limit = threshold("FQ-005", "max_mad")
    assert {s for s, m in mads.items() if m > limit} == cases, mads


def test_copy_forward_refiles_last_periods_wallet_rows_in_v1(market) -> None:
    con, truth = market
    for case in _cases(truth, "quality.copy_forward"):
        v1 = case["submission_id"]
        v2 = v1.replace("-v1", "-v2")
        prev = con.execute(
            "select submission_id from current_submissions where enterprise_id = ? and period < ? "
            "order by period desc limit 1",
            [case["enterprise_id"], case["period"]],
        ).fetchone()[0]
        assert v2 in _current(con) and v1 not in _current(con)
        wallets = (
            "(select account_id from accounts where submission_id = ? and account_class like 'CUSTOMER%')"
        )
        # every wallet filed last period carries last period's four amounts in v1, not in v2
        for sid, same in ((v1, True), (v2, False)):
            copied, total = con.execute(
                f"""select count(*) filter (where (b.opening, b.credits, b.debits, b.closing)
                                                  = (p.opening, p.credits, p.debits, p.closing)),
                           count(*) filter (where b.credits + b.debits > 0)
                    from account_balances b join account_balances p
                      on p.submission_id = ? and p.account_id = b.account_id
                    where b.submission_id = ? and b.account_id in {wallets}
                      and b.credits + b.debits > 0""",
                [prev, sid, sid],
            ).fetchone()
            assert total > 0 and (copied == total if same else copied == 0), (sid, copied, total)
        # the rows listed are those whose opening no longer follows last period's closing
        broken = con.execute(
            f"""select b.account_id || '|' || strftime(b.biz_date, '%Y-%m-%d')
                from account_balances b join account_balances p
                  on p.submission_id = ? and p.account_id = b.account_id
                where b.submission_id = ? and b.account_id in {wallets}
                  and (b.opening, b.credits, b.debits, b.closing) <> (p.opening, p.credits, p.debits, p.closing)""",
            [prev, v2, v2],
        ).fetchall()
        assert sorted(r[0] for r in broken) == sorted(case["records"]["account_balances"])
        assert con.execute(
            "select count(*) from account_balances where submission_id = ? and closing <> opening + credits - debits",
            [v1],
        ).fetchone() == (0,)
        # liquidity's customer balances follow the copied openings: the same shift every day
        opening = {
            sid: con.execute(
                f"select sum(opening) from account_balances where submission_id = ? and account_id in {wallets}",
                [sid, sid],
            ).fetchone()[0]
            for sid in (v1, v2)
        }
        shifts = con.execute(
            """select distinct (a.customer_bal_stable + a.customer_bal_less_stable)
                             - (b.customer_bal_stable + b.customer_bal_less_stable)
               from liquidity a join liquidity b using (as_of_date)
               where a.submission_id = ? and b.submission_id = ?""",
            [v1, v2],
        ).fetchall()
        assert shifts == [(opening[v1] - opening[v2],)] and opening[v1] != opening[v2]


def test_sudden_jump_is_twentyfold_against_history(market) -> None:
    con, truth = market
    totals: dict[str, dict[str, float]] = {}
    for eid, period, total in con.execute(
        """select s.enterprise_id, s.period, sum(t.amount_cny) from transactions t
           join current_submissions s using (submission_id) group by all"""
    ).fetchall():
        totals.setdefault(eid, {})[period] = float(total)
    cases = {(c["enterprise_id"], c["period"]) for c in _cases(truth, "macro.sudden_jump")}
    min_history = int(threshold("*", "min_history"))
    min_size = threshold("FQ-006", "min_size")
    jumps = set()
    for eid, by_period in totals.items():
        periods = sorted(by_period)
        for i in range(min_history, len(periods)):
            med = statistics.median(by_period[p] for p in periods[:i])
            x = by_period[periods[i]]
            if abs(x - med) / max(med, min_size) > threshold("FQ-006", "min_rel_change"):
                jumps.add((eid, periods[i]))
                assert x >= 20 * med
    assert jumps == cases


@pytest.mark.parametrize(("preset", "seed"), [("tiny", 11), ("tiny", 5), ("small", 5)])
def test_peer_based_cases_keep_their_peers_filing(preset: str, seed: int) -> None:
    """A missing filing is a peer fewer: a peer-based case (FQ-007, CPL-001, CRD-001) never goes into a
    type-period where missing filings leave fewer than min_peers peers."""
    p = PRESETS[preset]
    plans = plan_market(seed, p.enterprises, p.legs_per_month)
    planned = plan_cases(seed, plans, make_periods("2026-07", p.months), list(REGISTRY))
    by_index = {pl.index: pl for pl in plans}
    absent = Counter(
        (by_index[e].ent_type, i)
        for (e, i), cases in planned.items()
        for c in cases
        if REGISTRY[c.cls].files_nothing
    )
    peer_based = [
        (by_index[e], i, REGISTRY[c.cls].min_peers)
        for (e, i), cases in planned.items()
        for c in cases
        if REGISTRY[c.cls].min_peers
    ]
    assert peer_based and sum(absent.values()) > 0
    for plan, i, min_peers in peer_based:
        assert plan.peers - absent[(plan.ent_type, i)] >= min_peers, (plan.enterprise_id, i)


def test_sudden_jump_clears_the_median_of_a_busier_history(tmp_path) -> None:
    """Small seed 1, WM0010: its clean 2026-10 moved half its earlier months' median, so 20 x October alone
    was 9.4 x the median M009 compares with - under the rule's ten-fold floor (the case was missed). The
    jump is now 20 x the larger of the two."""
    from pipelines.synth import engine
    from pipelines.synth.inject import DEFAULT_CLASSES

    p = PRESETS["small"]
    plans = plan_market(1, p.enterprises, p.legs_per_month)
    periods = make_periods("2026-07", p.months)
    cases = plan_cases(1, plans, periods, list(DEFAULT_CLASSES))
    plan = next(x for x in plans if x.enterprise_id == "WM0010")
    mine = {i: cs for (e, i), cs in cases.items() if e == plan.index}
    assert [c.cls for c in mine[3]] == ["macro.sudden_jump"]
    engine.run(engine.Job(plan, 1, periods, tmp_path, mine, gzip_transactions=False))
    con = selfcheck.load(tmp_path)
    totals = dict(
        con.execute(
            """select s.period, sum(t.amount_cny) from transactions t join current_submissions s
               using (submission_id) group by all"""
        ).fetchall()
    )
    history = statistics.median(float(totals[q.label]) for q in periods[:3])
    assert float(totals[periods[3].label]) >= 20 * history
