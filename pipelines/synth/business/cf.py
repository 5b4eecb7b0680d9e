"""CF: a crowdfunding platform. Donation and reward campaigns collect backers' money from outside into the
campaign's sub-account and pay it out to the owner (less the platform's fee) a few days after closing;
debt campaigns collect lenders' pledges and, at closing, become a loan funded lender by lender, repaid
monthly like a P2P loan. Some platforms run no debt crowdfunding (their loans filing has zero rows)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pipelines.synth.books import CLS
from pipelines.synth.business import lending
from pipelines.synth.business.base import PeriodOut
from pipelines.synth.business.common import (
    avoid_bands,
    pay_operating_costs,
    scale_to_budget,
    split_proportional,
)
from pipelines.synth.ledger import CH, PUR, Ledger, fee, inflow, outflow
from pipelines.synth.periods import Period
from pipelines.synth.rng import (
    benford_below,
    child,
    day_factors,
    decade_uniform,
    stochastic_round,
    times_in_day,
)
from pipelines.synth.state import EnterpriseState
from pipelines.synth.tables import dates, ids

LEGS_PER_CAMPAIGN = 90.0  # legs per campaign started a month (calibration of size)
ACTIVE_PER_LEG = 0.08
KINDS = ("donation", "reward", "debt")
KIND_W = (0.6, 0.28, 0.12)
MEDIAN = {"donation": 200.0, "reward": 400.0, "debt": 500.0}
PAYOUT_FEE = 0.04
MAX_DEBT_BOOK = 85
VENDOR_SECTORS = (("I", 0.5), ("L", 0.3), ("M", 0.2))


def _i64(n: int = 0) -> np.ndarray:
    return np.zeros(n, np.int64)


@dataclass
class Campaigns:
    kind: np.ndarray = field(default_factory=_i64)  # index into KINDS
    owner: np.ndarray = field(default_factory=_i64)
    acct: np.ndarray = field(default_factory=_i64)  # the campaign's sub-account
    start: np.ndarray = field(default_factory=_i64)
    end: np.ndarray = field(default_factory=_i64)  # last day of collection
    payout: np.ndarray = field(default_factory=_i64)  # day funds go out (or the loan is made)
    done: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))


@dataclass
class Contributions:
    """Pre-drawn: who gives how much to which campaign on which day (debt: pledges funded at closing)."""

    camp: np.ndarray = field(default_factory=_i64)
    day: np.ndarray = field(default_factory=_i64)
    backer: np.ndarray = field(default_factory=_i64)  # party (debt: lender index)
    amount: np.ndarray = field(default_factory=_i64)
    inv: np.ndarray = field(default_factory=_i64)  # position number


@dataclass
class CFBiz:
    camps: Campaigns
    contrib: Contributions
    backers: np.ndarray  # donor/reward backer parties (no accounts)
    backer_w: np.ndarray
    lender_party: np.ndarray
    lender_acct: np.ndarray
    lender_w: np.ndarray
    lender_last_topup: np.ndarray
    lender_last_withdraw: np.ndarray
    owner_regular: dict  # owner party -> ordinary sub-account (for loan repayments)
    loans: lending.Loans
    pos: lending.Positions
    rate: float  # campaigns started per day
    runs_debt: bool
    inv_seq: int = 0
    loan_seq: int = 0
    vendors: np.ndarray = field(default_factory=_i64)
    opex_daily: int = 0


def _grow_backers(st: EnterpriseState, rng: np.random.Generator, n: int, day) -> None:
    biz = st.business(CFBiz)
    party = st.add_naturals(rng, n, day, foreign_share=0.02, shared_share=0.02)
    biz.backers = np.r_[biz.backers, party]
    biz.backer_w = np.r_[biz.backer_w, np.exp(0.7 * rng.standard_normal(n))]


def _grow_lenders(st: EnterpriseState, rng: np.random.Generator, n: int, day) -> None:
    biz = st.business(CFBiz)
    party = st.add_naturals(rng, n, day, shared_share=0.02)
    acct = st.accounts.add(
        names=[f"S{i + 1:07d}" for i in range(len(st.accounts), len(st.accounts) + n)],
        cls=CLS["CUSTOMER_SUB"],
        open_day=day,
        owner=party,
        parent=st.own["CS1"],
    )
    biz.lender_party = np.r_[biz.lender_party, party]
    biz.lender_acct = np.r_[biz.lender_acct, acct]
    biz.lender_w = np.r_[biz.lender_w, np.exp(0.7 * rng.standard_normal(n))]
    biz.lender_last_topup = np.r_[biz.lender_last_topup, np.full(n, -10)]
    biz.lender_last_withdraw = np.r_[biz.lender_last_withdraw, np.full(n, -10)]


def _launch(st: EnterpriseState, rng: np.random.Generator, starts: np.ndarray, first_day: int) -> None:
    """New campaigns starting on the given days, with their contributions drawn up front. Contributions
    before `first_day` (history) are summed into the opening balance of the campaign account."""
    biz = st.business(CFBiz)
    n = len(starts)
    if n == 0:
        return
    w = np.array(KIND_W) if biz.runs_debt else np.array(KIND_W[:2]) / sum(KIND_W[:2])
    kind = rng.choice(len(w), size=n, p=w / w.sum())
    # keep the debt book under 90 loans (a larger one would trip the borrower concentration screen)
    open_debt = int((biz.loans.ended < 0).sum() + ((biz.camps.kind == 2) & ~biz.camps.done).sum())
    debt = np.flatnonzero(kind == 2)
    kind[debt[max(0, MAX_DEBT_BOOK - open_debt) :]] = 1
    natural_owner = kind == 0
    owner = np.empty(n, np.int64)
    owner[natural_owner] = st.add_naturals(rng, int(natural_owner.sum()), starts[natural_owner])
    owner[~natural_owner] = st.add_legals(
        rng,
        int((~natural_owner).sum()),
        starts[~natural_owner],
        (("C", 0.35), ("F", 0.25), ("I", 0.2), ("R", 0.2)),
    )
    c0 = len(biz.camps.kind)
    acct = st.accounts.add(
        names=[f"S{i + 1:07d}" for i in range(len(st.accounts), len(st.accounts) + n)],
        cls=CLS["CUSTOMER_SUB"],
        open_day=starts,
        owner=owner,
        parent=st.own["CS1"],
        campaign=np.arange(c0, c0 + n),
    )
    # collection runs 7-25 days and ends within the month it started (so a month sees a campaign's backers
    # whole: a handful or many, never 20-39)
    month_end = (starts.astype("datetime64[D]").astype("datetime64[M]") + 1).astype("datetime64[D]").astype(
        np.int64
    ) - 1
    end = np.minimum(starts + rng.integers(7, 26, n), month_end)
    duration = end - starts + 1
    payout = end + rng.integers(3, 7, n)
    cp = biz.camps
    cp.kind, cp.owner, cp.acct = np.r_[cp.kind, kind], np.r_[cp.owner, owner], np.r_[cp.acct, acct]
    cp.start, cp.end, cp.payout = np.r_[cp.start, starts], np.r_[cp.end, end], np.r_[cp.payout, payout]
    cp.done = np.r_[cp.done, np.zeros(n, bool)]
    small = rng.random(n) < 0.5
    n_b = np.where(small, rng.integers(8, 19, n), rng.integers(40, 80, n))
    camp = np.repeat(np.arange(c0, c0 + n), n_b)
    k = len(camp)
    # contributions log-uniform over a decade around the campaign's typical amount (Benford's first digits;
    # with 40 or more backers the top five stay well under half)
    med = np.array([MEDIAN[KINDS[i]] for i in kind]) * np.exp(0.3 * rng.standard_normal(n))
    amount = (decade_uniform(rng, med[camp - c0]) * 100).astype(np.int64)
    amount = np.maximum(amount, 1000)
    debt = kind[camp - c0] == 2
    # debt pledges capped so a borrower stays under the legal-person limit
    day = starts[camp - c0] + (rng.random(k) * duration[camp - c0]).astype(np.int64)
    backer = np.empty(k, np.int64)
    nd_ = int((~debt).sum())
    bw = biz.backer_w
    backer[~debt] = np.minimum(
        np.searchsorted(np.cumsum(bw), rng.random(nd_) * bw.sum(), side="right"), len(bw) - 1
    )
    lw = biz.lender_w
    backer[debt] = np.minimum(
        np.searchsorted(np.cumsum(lw), rng.random(int(debt.sum())) * lw.sum(), side="right"), len(lw) - 1
    )
    # one position per backer and campaign: merge repeats
    key = camp * 10_000_000 + backer
    order = np.argsort(key, kind="stable")
    key_s = key[order]
    first = np.r_[True, key_s[1:] != key_s[:-1]]
    grp = np.cumsum(first) - 1
    amount = np.bincount(grp, weights=amount[order]).astype(np.int64)
    day = np.minimum.reduceat(day[order], np.flatnonzero(first))
    camp, backer = camp[order][first], backer[order][first]
    debt = kind[camp - c0] == 2
    totals = np.bincount(camp - c0, weights=amount, minlength=n)
    over = np.flatnonzero((kind == 2) & (totals > 85_000_000))
    for over_i in over:  # cap a debt campaign at 850,000 yuan
        m = camp == c0 + over_i
        amount[m] = split_proportional(np.array([85_000_000]), amount[m], np.zeros(int(m.sum()), np.int64))
    debt_day = np.where(debt, end[camp - c0], day)
    inv = np.arange(biz.inv_seq, biz.inv_seq + len(camp))
    biz.inv_seq += len(camp)
    keep_hist = debt_day < first_day
    if keep_hist.any():  # contributions before the simulation: already in the campaign account
        np.add.at(st.accounts.balance, acct[camp[keep_hist & ~debt] - c0], amount[keep_hist & ~debt])
    c = biz.contrib
    c.camp, c.day, c.backer = np.r_[c.camp, camp], np.r_[c.day, debt_day], np.r_[c.backer, backer]
    c.amount, c.inv = np.r_[c.amount, amount], np.r_[c.inv, inv]


def init(st: EnterpriseState, rng: np.random.Generator, warmup: Period) -> None:
    plan = st.plan
    since = warmup.first_ord - int(rng.integers(600, 1800))
    cs = st.add_own_account("CS1", CLS["CUSTODY_SUMMARY"], plan.custodian, since)
    st.add_own_account(
        "OF1",
        CLS["OWN_FUNDS"],
        plan.own_bank,
        since,
        balance=int(plan.paid_in_capital * rng.uniform(0.3, 0.5)),
    )
    st.bank_view = cs
    rate = max(plan.legs_per_month / LEGS_PER_CAMPAIGN, 1.0) / 30
    st.biz = CFBiz(
        camps=Campaigns(),
        contrib=Contributions(),
        backers=_i64(),
        backer_w=np.zeros(0),
        lender_party=_i64(),
        lender_acct=_i64(),
        lender_w=np.zeros(0),
        lender_last_topup=_i64(),
        lender_last_withdraw=_i64(),
        owner_regular={},
        loans=lending.Loans(),
        pos=lending.Positions(),
        rate=rate,
        runs_debt=plan.index % 3 != 2,
        vendors=st.add_legals(rng, 3, since, VENDOR_SECTORS),
        opex_daily=int(plan.paid_in_capital * 0.00003),
    )
    n_backers = max(50, int(rate * 30 * 40))
    _grow_backers(st, rng, n_backers, rng.integers(since, warmup.first_ord, n_backers))
    n_lenders = max(30, int(rate * 30 * 8))
    _grow_lenders(st, rng, n_lenders, rng.integers(since, warmup.first_ord - 60, n_lenders))
    acc = st.accounts
    biz = st.business(CFBiz)
    acc.balance[biz.lender_acct] = (np.exp(np.log(3000) + 1.0 * rng.standard_normal(n_lenders)) * 100).astype(
        np.int64
    )
    # campaigns already running when the simulation starts
    k = int(rng.poisson(rate * 45))
    _launch(st, rng, warmup.first_ord - rng.integers(1, 45, k), warmup.first_ord)
    cp = biz.camps
    stale = cp.payout < warmup.first_ord  # finished before we start: drop their money again
    acc.balance[cp.acct[stale]] = 0
    cp.done[stale] = True
    acc.balance[cs] = acc.balance[acc.is_customer()].sum()
    acc.last_activity[acc.is_customer()] = np.maximum(
        warmup.first_ord - rng.integers(1, 30, int(acc.is_customer().sum())), acc.open[acc.is_customer()]
    )
    acc.last_activity[list(st.own.values())] = warmup.first_ord - 1


def _forget_paid_out(biz: CFBiz, before: int) -> None:
    """Drop contributions of campaigns paid out before `before` (nothing refers to them any more)."""
    c = biz.contrib
    keep = biz.camps.payout[c.camp] >= before
    for name in ("camp", "day", "backer", "amount", "inv"):
        setattr(c, name, getattr(c, name)[keep])


def _regular_account(st: EnterpriseState, owner: int, day: int) -> int:
    biz = st.business(CFBiz)
    if owner not in biz.owner_regular:
        biz.owner_regular[owner] = int(
            st.accounts.add(
                names=[f"S{len(st.accounts) + 1:07d}"],
                cls=CLS["CUSTOMER_SUB"],
                open_day=day,
                owner=owner,
                parent=st.own["CS1"],
            )[0]
        )
    return biz.owner_regular[owner]


def simulate(st: EnterpriseState, period: Period, lg: Ledger, rng: np.random.Generator) -> PeriodOut:
    biz = st.business(CFBiz)
    acc, parties = st.accounts, st.parties
    cs, of = st.own["CS1"], st.own["OF1"]
    nd = period.ndays
    biz.loans, biz.pos = lending.compact(biz.loans, biz.pos, period.first_ord)
    _forget_paid_out(biz, period.first_ord)
    g = st.plan.growth
    _grow_backers(st, rng, int(stochastic_round(rng, len(biz.backers) * g)), period.first_ord)
    factors = day_factors(rng, period.first_ord, nd, "office")
    starts = np.concatenate(
        [np.full(rng.poisson(biz.rate * (1 + g) * factors[d]), period.first_ord + d) for d in range(nd)]
    ).astype(np.int64)
    _launch(st, rng, starts, period.first_ord)
    nl = len(biz.lender_party)
    idle0 = float(acc.balance[biz.lender_acct].sum())
    idle_target = idle0 * (1 + g) ** ((np.arange(nd) + 1) / nd)
    fee_income = 0
    of_bal = int(acc.balance[of])
    cp, c = biz.camps, biz.contrib
    r_wd = child(rng, "withdrawals")
    for d in range(nd):
        day = period.first_ord + d
        base_t = d * 86400
        bal = acc.balance

        # donations and reward purchases from outside into campaign accounts
        today = np.flatnonzero((c.day == day) & (cp.kind[c.camp] != 2))
        if len(today):
            today_camps = c.camp[today]
            donation = cp.kind[today_camps] == 0
            inflow(
                lg,
                parties,
                t=base_t + times_in_day(rng, len(today), "retail", lo=600, hi=23 * 3600),
                party=biz.backers[c.backer[today]],
                acct=cp.acct[today_camps],
                bank_acct=cs,
                amt=c.amount[today],
                ch=np.where(donation, CH["online_balance"], CH["card"]),
                pur=np.where(donation, PUR["donation"], PUR["payment"]),
                payee=cp.owner[today_camps],
                camp=today_camps,
            )
            np.add.at(bal, cp.acct[today_camps], c.amount[today])

        # debt campaigns closing today become loans, funded lender by lender
        closing = np.flatnonzero((cp.kind == 2) & (cp.end == day) & ~cp.done)
        for ci in closing.tolist():
            m = np.flatnonzero(c.camp == ci)
            lenders, amt = c.backer[m], c.amount[m]
            t0 = base_t + int(rng.integers(10 * 3600, 16 * 3600))
            need = bal[biz.lender_acct[lenders]] < amt
            top = need & (day - biz.lender_last_withdraw[lenders] >= 3)
            inflow(
                lg,
                parties,
                t=np.full(int(top.sum()), t0 - 600),
                party=biz.lender_party[lenders[top]],
                acct=biz.lender_acct[lenders[top]],
                bank_acct=cs,
                amt=amt[top],
                ch=CH["transfer"],
                pur=PUR["top_up"],
            )
            funded = ~need | top
            lenders, amt, inv = lenders[funded], amt[funded], c.inv[m][funded]
            np.subtract.at(bal, biz.lender_acct[lenders], np.where(top[funded], 0, amt))
            biz.lender_last_topup[lenders[top[funded]]] = day
            principal = int(amt.sum())
            if principal == 0:
                cp.done[ci] = True
                continue
            owner = int(cp.owner[ci])
            regular = _regular_account(st, owner, day)
            bal = acc.balance  # the books may have grown: a new array
            t = lending.terms(
                rng,
                1,
                months=(6, 12),
                weights=(0.5, 0.5),
                apr_range=(0.06, 0.12),
                fee_monthly=(0.001, 0.002),
                principal=np.array([principal]),
                p_default=0.05,
            )
            loan = lending.Loans(
                no=np.array([biz.loan_seq]),
                borrower=np.array([owner]),
                acct=np.array([regular]),
                principal=np.array([principal]),
                orig=np.array([day]),
                camp=np.array([ci]),
                paid=_i64(1),
                outstanding=np.array([principal]),
                written_off=_i64(1),
                cure_day=np.array([-1]),
                ended=np.array([-1]),
                **t,
            )
            loan.cure_day = lending.cure_days(rng, loan, 0.4)
            biz.loan_seq += 1
            li = len(biz.loans)
            biz.loans.append(loan)
            ev = lg.new_events(1)
            lg.add(
                ev=ev,
                cust=True,
                t=t0,
                dr=biz.lender_acct[lenders],
                cr=cp.acct[ci],
                payer=biz.lender_party[lenders],
                payee=owner,
                amt=amt,
                ch=CH["transfer"],
                pur=PUR["loan_disbursement"],
                loan=loan.no[0],
                inv=inv,
                camp=ci,
            )
            bal[cp.acct[ci]] += principal
            biz.pos.append(
                lending.Positions(
                    loan=np.full(len(inv), li),
                    no=inv,
                    lender=biz.lender_party[lenders],
                    acct=biz.lender_acct[lenders],
                    principal=amt.copy(),
                )
            )
            c.amount[m[~funded]] = 0

        # pay-outs: the platform's fee, then the rest to the owner
        pay = np.flatnonzero((cp.payout == day) & ~cp.done)
        if len(pay):
            raised = bal[cp.acct[pay]]
            fees = np.rint(raised * PAYOUT_FEE).astype(np.int64)
            t_pay = base_t + times_in_day(rng, len(pay), "office", lo=9 * 3600, hi=18 * 3600)
            m = fees > 0
            fee(
                lg,
                t=t_pay[m],
                payer=cp.owner[pay[m]],
                acct=cp.acct[pay[m]],
                bank_view=cs,
                own=of,
                amt=fees[m],
                camp=pay[m],
            )
            rest = raised - fees
            m = rest > 0
            outflow(
                lg,
                parties,
                t=t_pay[m] + 300,
                party=cp.owner[pay[m]],
                acct=cp.acct[pay[m]],
                bank_acct=cs,
                amt=rest[m],
                ch=CH["transfer"],
                pur=PUR["withdrawal"],
                camp=pay[m],
            )
            bal[cp.acct[pay]] = 0
            cp.done[pay] = True
            fee_income += int(fees.sum())
            of_bal += int(fees.sum())

        # debt repayments
        fee_today = lending.book_repayments(
            lg, parties, biz.loans, biz.pos, day, base_t, rng, bal, cs=cs, of=of
        )
        fee_income += fee_today
        of_bal += fee_today

        # lenders withdraw idle money
        idle = bal[biz.lender_acct]
        cand = (idle > 10_000) & (day - biz.lender_last_topup >= 3) & (rng.random(nl) < 0.1)
        prop = np.where(cand, benford_below(r_wd, idle), 0.0)
        wd = avoid_bands(
            scale_to_budget(prop, float(idle.sum()) - idle_target[d], 1000),
            parties.country[biz.lender_party] != 0,
        )
        who = np.flatnonzero(wd > 0)
        outflow(
            lg,
            parties,
            t=base_t + times_in_day(rng, len(who), "office", lo=8 * 3600, hi=22 * 3600),
            party=biz.lender_party[who],
            acct=biz.lender_acct[who],
            bank_acct=cs,
            amt=wd[who],
            ch=CH["transfer"],
            pur=PUR["withdrawal"],
        )
        bal[biz.lender_acct[who]] -= wd[who]
        biz.lender_last_withdraw[who] = day

        of_bal -= pay_operating_costs(lg, parties, rng, biz.opex_daily, biz.vendors, of, of_bal, base_t, day)

    written = lending.write_off(biz.loans, biz.pos, period.last_ord)
    loans_df, debt_inv = lending.snapshot(biz.loans, biz.pos, period, written, product="cf_debt")
    return PeriodOut(
        loans=loans_df,
        investments=pl.concat([debt_inv, _campaign_positions(st, period)], how="diagonal_relaxed"),
        opex_daily=biz.opex_daily,
        fee_income=fee_income,
    )


def _campaign_positions(st: EnterpriseState, period: Period) -> pl.DataFrame:
    """Donation and reward positions of campaigns collecting or paying out in the period: the backer's
    contribution so far."""
    biz = st.business(CFBiz)
    cp, c = biz.camps, biz.contrib
    kind = cp.kind[c.camp]
    live = (kind != 2) & (c.day <= period.last_ord) & (cp.payout[c.camp] >= period.first_ord)
    idx = np.flatnonzero(live)
    ci = c.camp[idx]
    reward = cp.kind[ci] == 1
    return pl.DataFrame(
        {
            "investment_id": ids("inv", c.inv[idx]),
            "as_of_date": dates(np.full(len(idx), period.last_ord)),
            "investor_party_id": ids("party", biz.backers[c.backer[idx]]),
            "product_type": pl.Series(np.where(reward, "cf_reward", "cf_donation")),
            "campaign_id": ids("camp", ci),
            "principal": c.amount[idx],
            "start_date": dates(c.day[idx]),
            "term_days": pl.Series(np.where(reward, cp.payout[ci] + 60 - c.day[idx], -1)).cast(pl.Int64),
        }
    ).with_columns(term_days=pl.when(pl.col("term_days") >= 0).then(pl.col("term_days")))
