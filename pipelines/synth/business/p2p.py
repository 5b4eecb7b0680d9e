"""P2P: an online lending intermediary. Lenders deposit into sub-accounts at the custodian bank (or reuse
repayments) and fund loans lender by lender; borrowers withdraw the loan, later pay in each installment,
which is passed to the lenders with its principal/interest split, and pay the platform's fee."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.synth.books import CLS
from pipelines.synth.business import lending
from pipelines.synth.business.base import PeriodOut
from pipelines.synth.business.common import (
    avoid_bands,
    pay_operating_costs,
    scale_to_budget,
    split_proportional,
)
from pipelines.synth.ledger import CH, PUR, Ledger, inflow, outflow
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

LEGS_PER_LOAN = 12.0  # legs per outstanding loan and month (calibration of size)
ACTIVE_PER_LEG = 0.15
MONTHS, MONTH_W = (3, 6, 12), (0.3, 0.4, 0.3)
MEAN_TERM = 6.9
LOAN_CENTER = 6_300.0  # principals log-uniform from 2,000 to 20,000 yuan
P_DEFAULT, P_CURE = 0.07, 0.35
# keep books either small or large: a book of 100-600 borrowers would trip the top-10 concentration screen
BOOK_GAP = (60, 600)
VENDOR_SECTORS = (("I", 0.5), ("L", 0.3), ("M", 0.2))


@dataclass
class LenderBook:
    party: np.ndarray
    acct: np.ndarray
    weight: np.ndarray
    related: np.ndarray
    last_topup: np.ndarray
    last_withdraw: np.ndarray


@dataclass
class P2PBiz:
    lenders: LenderBook
    loans: lending.Loans
    pos: lending.Positions
    book_size: int  # target number of outstanding loans
    loan_seq: int
    inv_seq: int
    vendors: np.ndarray
    opex_daily: int


def book_size(legs_per_month: float) -> int:
    b = max(5, int(legs_per_month / LEGS_PER_LOAN))
    if BOOK_GAP[0] <= b < BOOK_GAP[1]:
        b = 45 if b < 250 else BOOK_GAP[1]
    return b


def _principals(rng: np.random.Generator, n: int) -> np.ndarray:
    p = decade_uniform(rng, LOAN_CENTER, n)
    return (np.maximum(np.round(p / 100), 10) * 100 * 100).astype(np.int64)  # whole hundreds of yuan


def _lender_shares(
    rng: np.random.Generator, principal: np.ndarray, n_lenders: int, weights: np.ndarray, eligible: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(loan index, lender index, amount) per funding leg: 1-8 distinct lenders per loan."""
    k = np.minimum(1 + rng.poisson(2.0, len(principal)), 8)
    k = np.minimum(k, np.maximum(principal // 50_000, 1))  # at least 500 yuan a share
    w = np.where(eligible, weights, 0.0)
    loan = np.repeat(np.arange(len(principal)), k)
    cdf = np.cumsum(w)
    lender = np.minimum(np.searchsorted(cdf, rng.random(len(loan)) * cdf[-1], side="right"), n_lenders - 1)
    # one position per lender per loan: merge repeats
    key = loan * n_lenders + lender
    key, first = np.unique(key, return_index=True)
    loan, lender = key // n_lenders, key % n_lenders
    share = rng.gamma(2.0, 1.0, len(loan))
    share_i = np.maximum((share * 1e6).astype(np.int64), 1)
    amount = split_proportional(principal, share_i, loan)
    return loan, lender, amount


def _new_loans(st: EnterpriseState, rng: np.random.Generator, orig: np.ndarray) -> lending.Loans:
    n = len(orig)
    principal = _principals(rng, n)
    t = lending.terms(
        rng,
        n,
        months=MONTHS,
        weights=MONTH_W,
        apr_range=(0.07, 0.16),
        fee_monthly=(0.001, 0.004),
        principal=principal,
        p_default=P_DEFAULT,
    )
    biz = st.business(P2PBiz)
    no = np.arange(biz.loan_seq, biz.loan_seq + n)
    biz.loan_seq += n
    return lending.Loans(
        no=no,
        borrower=np.full(n, -1),
        acct=np.full(n, -1),
        principal=principal,
        orig=orig.astype(np.int64),
        camp=np.full(n, -1),
        paid=np.zeros(n, np.int64),
        outstanding=principal.copy(),
        written_off=np.zeros(n, np.int64),
        cure_day=np.full(n, -1),
        ended=np.full(n, -1),
        **t,
    )


def _open_borrowers(st: EnterpriseState, rng: np.random.Generator, loans: lending.Loans) -> None:
    n = len(loans)
    party = st.add_naturals(rng, n, loans.orig, shared_share=0.01)
    cs = st.own["CS1"]
    acct = st.accounts.add(
        names=[f"S{i + 1:07d}" for i in range(len(st.accounts), len(st.accounts) + n)],
        cls=CLS["CUSTOMER_SUB"],
        open_day=loans.orig,
        owner=party,
        parent=cs,
    )
    loans.borrower, loans.acct = party, acct


def _new_lenders(
    st: EnterpriseState, rng: np.random.Generator, n: int, open_day: np.ndarray, *, related: int = 0
) -> LenderBook:
    """n new lenders with a sub-account each."""
    rel = np.zeros(n, bool)
    rel[:related] = True
    legal = rng.random(n) < 0.05
    party = np.empty(n, np.int64)
    nat = np.flatnonzero(~legal)
    party[nat] = st.add_naturals(
        rng,
        len(nat),
        np.asarray(open_day)[nat] if np.ndim(open_day) else open_day,
        foreign_share=0.02,
        shared_share=0.02,
        related=rel[nat],
    )
    leg = np.flatnonzero(legal)
    party[leg] = st.add_legals(
        rng,
        len(leg),
        np.asarray(open_day)[leg] if np.ndim(open_day) else open_day,
        (("K", 0.5), ("C", 0.3), ("F", 0.2)),
        related=rel[leg],
    )
    acct = st.accounts.add(
        names=[f"S{i + 1:07d}" for i in range(len(st.accounts), len(st.accounts) + n)],
        cls=CLS["CUSTOMER_SUB"],
        open_day=open_day,
        owner=party,
        parent=st.own["CS1"],
    )
    return LenderBook(
        party, acct, np.exp(0.5 * rng.standard_normal(n)), rel, np.full(n, -10), np.full(n, -10)
    )


def _add_lenders(st: EnterpriseState, rng: np.random.Generator, n: int, open_day: np.ndarray) -> None:
    """Lenders joining during a period, appended to the lender book."""
    biz = st.business(P2PBiz)
    lb = _new_lenders(st, rng, n, open_day)
    for f in ("party", "acct", "weight", "related", "last_topup", "last_withdraw"):
        setattr(biz.lenders, f, np.concatenate([getattr(biz.lenders, f), getattr(lb, f)]))


def init(st: EnterpriseState, rng: np.random.Generator, warmup: Period) -> None:
    plan = st.plan
    since = warmup.first_ord - int(rng.integers(800, 2000))
    cs = st.add_own_account("CS1", CLS["CUSTODY_SUMMARY"], plan.custodian, since)
    st.add_own_account(
        "OF1",
        CLS["OWN_FUNDS"],
        plan.own_bank,
        since,
        balance=int(plan.paid_in_capital * rng.uniform(0.3, 0.5)),
    )
    st.bank_view = cs
    b = book_size(plan.legs_per_month)
    vendors = st.add_legals(rng, 3, since, VENDOR_SECTORS)
    n_lenders = max(20, int(b * 0.8))
    lenders = _new_lenders(
        st, rng, n_lenders, rng.integers(since, warmup.first_ord - 740, n_lenders), related=2
    )
    biz = st.biz = P2PBiz(
        lenders=lenders,
        loans=lending.Loans(),
        pos=lending.Positions(),
        book_size=b,
        loan_seq=0,
        inv_seq=0,
        vendors=vendors,
        opex_daily=0,
    )
    # the book so far: steady originations over the last two years, aged to the warm-up start
    per_month = b / MEAN_TERM
    n_hist = int(per_month * 24)
    orig = rng.integers(warmup.first_ord - 730, warmup.first_ord, n_hist)
    loans = _new_loans(st, rng, orig)
    loans.cure_day = lending.cure_days(rng, loans, P_CURE)
    loans = lending.age_to(loans, warmup.first_ord)
    _open_borrowers(st, rng, loans)
    lb = biz.lenders
    eligible = np.ones(len(lb.party), bool)
    li, lj, amt = _lender_shares(rng, loans.principal, len(lb.party), lb.weight, eligible)
    # current position principal: the original shares scaled to what is outstanding
    cur = split_proportional(loans.outstanding, amt, li)
    biz.pos = lending.Positions(
        loan=li, no=np.arange(len(li)), lender=lb.party[lj], acct=lb.acct[lj], principal=cur
    )
    biz.inv_seq = len(li)
    biz.loans = loans
    acc = st.accounts
    acc.balance[lb.acct] = (np.exp(np.log(2000) + 1.2 * rng.standard_normal(len(lb.acct))) * 100).astype(
        np.int64
    )
    acc.balance[cs] = acc.balance[acc.is_customer()].sum()
    acc.last_activity[acc.is_customer()] = warmup.first_ord - rng.integers(
        1, 30, int(acc.is_customer().sum())
    )
    acc.last_activity[list(st.own.values())] = warmup.first_ord - 1
    biz.opex_daily = int(plan.paid_in_capital * 0.00005)


def simulate(st: EnterpriseState, period: Period, lg: Ledger, rng: np.random.Generator) -> PeriodOut:
    biz = st.business(P2PBiz)
    acc, parties = st.accounts, st.parties
    cs, of = st.own["CS1"], st.own["OF1"]
    biz.loans, biz.pos = lending.compact(biz.loans, biz.pos, period.first_ord)
    nd = period.ndays
    # a few new lenders a month
    new_l = int(stochastic_round(rng, len(biz.lenders.party) * st.plan.growth))
    if new_l:
        _add_lenders(st, rng, new_l, rng.integers(period.first_ord, period.last_ord + 1, new_l))
    lb = biz.lenders
    nl = len(lb.party)
    g = st.plan.growth * rng.uniform(0.85, 1.15)
    idle0 = float(acc.balance[lb.acct].sum())
    target = idle0 * (1 + g) ** ((np.arange(nd) + 1) / nd)
    factors = day_factors(rng, period.first_ord, nd, "office")
    r_wd = child(rng, "withdrawals")
    live = int((biz.loans.ended < 0).sum())
    originations = biz.book_size * (1 + g) / MEAN_TERM + max(biz.book_size - live, 0) * 0.1
    fee_income = 0
    of_bal = int(acc.balance[of])
    for d in range(nd):
        day = period.first_ord + d
        base_t = d * 86400
        bal = acc.balance  # updated in place

        # repayments due today: borrower pays in, then lenders receive, then the platform's fee
        fee_today = lending.book_repayments(
            lg, parties, biz.loans, biz.pos, day, base_t, rng, bal, cs=cs, of=of
        )
        fee_income += fee_today
        of_bal += fee_today

        # new loans: lenders fund them (topping up what their balance does not cover), borrowers withdraw
        n_new = int(rng.poisson(originations / nd * factors[d]))
        if n_new:
            orig = np.full(n_new, day)
            new = _new_loans(st, rng, orig)
            new.cure_day = lending.cure_days(rng, new, P_CURE)
            _open_borrowers(st, rng, new)
            bal = acc.balance  # the books grew: a new array
            eligible = (day - lb.last_withdraw >= 3) & (acc.open[lb.acct] <= day)
            li, lj, amt = _lender_shares(rng, new.principal, nl, lb.weight, eligible)
            t0 = base_t + times_in_day(rng, n_new, "office", lo=8 * 3600, hi=20 * 3600)
            lacc = lb.acct[lj]
            # a lender funding several loans today: cover all of them from balance or top up each
            need = np.bincount(lj, weights=amt, minlength=nl)
            own_cover = bal[lb.acct] >= need
            top = ~own_cover[lj]
            inflow(
                lg,
                parties,
                t=t0[li[top]] - 300,
                party=lb.party[lj[top]],
                acct=lacc[top],
                bank_acct=cs,
                amt=amt[top],
                ch=CH["transfer"],
                pur=PUR["top_up"],
            )
            lb.last_topup[lj[top]] = day
            np.subtract.at(bal, lacc[~top], amt[~top])
            inv_no = np.arange(biz.inv_seq, biz.inv_seq + len(li))
            biz.inv_seq += len(li)
            loan_index = len(biz.loans) + li
            ev = lg.new_events(n_new)[li]
            lg.add(
                ev=ev,
                cust=True,
                t=t0[li],
                dr=lacc,
                cr=new.acct[li],
                payer=lb.party[lj],
                payee=new.borrower[li],
                amt=amt,
                ch=CH["transfer"],
                pur=PUR["loan_disbursement"],
                loan=new.no[li],
                inv=inv_no,
            )
            outflow(
                lg,
                parties,
                t=t0 + rng.integers(600, 7200, n_new),
                party=new.borrower,
                acct=new.acct,
                bank_acct=cs,
                amt=new.principal,
                ch=CH["transfer"],
                pur=PUR["withdrawal"],
            )
            new.outstanding = new.principal.copy()
            biz.loans.append(new)
            biz.pos.append(
                lending.Positions(
                    loan=loan_index, no=inv_no, lender=lb.party[lj], acct=lacc, principal=amt.copy()
                )
            )

        # lenders withdraw idle money, keeping the idle total on its growth path
        idle = bal[lb.acct]
        cand = ~lb.related & (idle > 10_000) & (day - lb.last_topup >= 3) & (rng.random(nl) < 0.12)
        prop = np.where(cand, benford_below(r_wd, idle), 0.0)
        wd = avoid_bands(
            scale_to_budget(prop, float(idle.sum()) - target[d], 1000), parties.country[lb.party] != 0
        )
        who = np.flatnonzero(wd > 0)
        if len(who):
            outflow(
                lg,
                parties,
                t=base_t + times_in_day(rng, len(who), "office", lo=8 * 3600, hi=22 * 3600),
                party=lb.party[who],
                acct=lb.acct[who],
                bank_acct=cs,
                amt=wd[who],
                ch=CH["transfer"],
                pur=PUR["withdrawal"],
            )
            bal[lb.acct[who]] -= wd[who]
            lb.last_withdraw[who] = day

        # operating costs
        of_bal -= pay_operating_costs(lg, parties, rng, biz.opex_daily, biz.vendors, of, of_bal, base_t, day)

    written = lending.write_off(biz.loans, biz.pos, period.last_ord)
    loans_df, inv_df = lending.snapshot(biz.loans, biz.pos, period, written, product="p2p_loan")
    return PeriodOut(loans=loans_df, investments=inv_df, opex_daily=biz.opex_daily, fee_income=fee_income)
