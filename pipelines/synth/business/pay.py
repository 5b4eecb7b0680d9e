"""PAY: a payment institution. Consumers top up wallets from bank cards and pay merchants (and now and then
each other); merchants pay a daily fee and withdraw. Top-ups arrive in RESERVE_BANK and are swept to
RESERVE_CENTRAL each evening; withdrawals and fees leave from RESERVE_CENTRAL, so the reserves equal the
wallet total every day."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.business_calendar import is_working_ordinal
from pipelines.synth.books import CLS
from pipelines.synth.business.base import PeriodOut
from pipelines.synth.business.common import accept_within, avoid_bands, avoid_bands_up, scale_to_budget
from pipelines.synth.identity import MERCHANT_SECTORS
from pipelines.synth.ledger import CH, PUR, Ledger, bank_external, fee, inflow, outflow
from pipelines.synth.periods import Period
from pipelines.synth.rng import (
    benford_below,
    child,
    day_factors,
    lognormal_mix,
    stochastic_round,
    times_in_day,
    to_cents,
    weighted_pick,
)
from pipelines.synth.state import EnterpriseState

LEGS_PER_CONSUMER = 15.0  # legs per consumer and month (calibration of size)
ACTIVE_PER_LEG = 0.07  # active customers per monthly leg
LAMBDA_PAY = 0.2  # payments per consumer-day
LAMBDA_TOPUP = 0.003  # spontaneous top-ups per consumer-day
P_AUTO = 0.85  # a payer short of balance tops up first
PEER_SHARE = 0.03
PAY_AMOUNTS = ((35.0, 1.0, 0.55), (260.0, 1.0, 0.38), (3500.0, 0.9, 0.07))
PEER_AMOUNTS = ((120.0, 1.0, 0.7), (1200.0, 1.0, 0.3))
TOPUP_AMOUNTS = ((300.0, 1.0, 0.75), (3000.0, 1.0, 0.24), (30000.0, 0.8, 0.01))
FLOAT = (300.0, 0.8)  # median and sigma of the balance a consumer likes to keep on top of a day's spending
KYC_LIMIT = {0: 100_000, 1: 10_000_000, 2: 20_000_000}  # cents: I since opening, II and III per year
KYC_MARGIN = 0.97
STATIC_QR_DAY = 50_000  # cents per payer and day
CAREFUL_INFLOW = 3_000_000  # cents received within 3 days from which a consumer spends at most half
VENDOR_SECTORS = (("I", 0.4), ("L", 0.3), ("M", 0.2), ("N", 0.1))


@dataclass
class PayBiz:
    wallet: np.ndarray  # account index of each customer's wallet
    party: np.ndarray
    merchant: np.ndarray
    weight: np.ndarray
    scale: np.ndarray
    float_: np.ndarray  # cents a consumer tops up beyond what the day's payments need
    kyc: np.ndarray
    paid_life: np.ndarray
    paid_ytd: np.ndarray
    ytd_year: int
    last_topup: np.ndarray
    last_withdraw: np.ndarray
    in_today: np.ndarray  # money received today / yesterday / the two days before today (cents)
    in_yesterday: np.ndarray
    recent_in: np.ndarray
    related: np.ndarray
    open: np.ndarray
    fee_rate: float
    vendors: np.ndarray
    opex_daily: int


def _new_customers(
    st: EnterpriseState,
    rng: np.random.Generator,
    n_cons: int,
    n_merch: int,
    open_days: np.ndarray,
    merch_open: np.ndarray,
    *,
    initial: bool,
) -> dict[str, np.ndarray]:
    kyc = rng.choice(3, size=n_cons, p=[0.12, 0.5, 0.38]).astype(np.int8)
    related = np.zeros(n_cons, bool)
    if initial:
        related[rng.choice(n_cons, size=min(3, n_cons // 10), replace=False)] = True
    cons = st.add_naturals(
        rng,
        n_cons,
        open_days,
        foreign_share=0.04,
        shared_share=0.02,
        kyc=kyc,
        related=related,
        dishonest=rng.random(n_cons) < 0.004,
    )
    merch = st.add_legals(rng, n_merch, merch_open, MERCHANT_SECTORS)
    party = np.concatenate([cons, merch])
    opened = np.concatenate([open_days, merch_open])
    wallets = st.accounts.add(
        names=[f"W{i + 1:07d}" for i in range(len(st.accounts), len(st.accounts) + len(party))],
        cls=CLS["CUSTOMER_WALLET"],
        open_day=opened,
        owner=party,
        last_activity=-1,
    )
    weight = np.concatenate(
        [
            np.exp(0.8 * rng.standard_normal(n_cons)) * np.where(kyc == 0, 0.3, 1.0),
            np.exp(0.6 * rng.standard_normal(n_merch)),
        ]
    )
    return {
        "wallet": wallets,
        "party": party,
        "merchant": np.r_[np.zeros(n_cons, bool), np.ones(n_merch, bool)],
        "weight": weight,
        "scale": np.exp(0.35 * rng.standard_normal(len(party))),
        "float_": to_cents(FLOAT[0] * np.exp(FLOAT[1] * rng.standard_normal(len(party)))),
        "kyc": np.r_[kyc, np.full(n_merch, -1, np.int8)],
        "related": np.r_[related, np.zeros(n_merch, bool)],
        "open": opened,
    }


def init(st: EnterpriseState, rng: np.random.Generator, warmup: Period) -> None:
    plan = st.plan
    since = warmup.first_ord - int(rng.integers(500, 2000))
    rc = st.add_own_account("RC1", CLS["RESERVE_CENTRAL"], "PBOC", since)
    rb = st.add_own_account("RB1", CLS["RESERVE_BANK"], plan.own_bank, since)
    of = st.add_own_account(
        "OF1",
        CLS["OWN_FUNDS"],
        plan.own_bank,
        since,
        balance=int(plan.paid_in_capital * rng.uniform(0.25, 0.4)),
    )
    st.bank_view = rb
    n_cons = max(40, int(plan.legs_per_month / LEGS_PER_CONSUMER))
    n_merch = max(10, n_cons // 25)
    opened = rng.integers(since, warmup.first_ord, n_cons)
    merch_open = rng.integers(since, warmup.first_ord, n_merch)
    c = _new_customers(st, rng, n_cons, n_merch, opened, merch_open, initial=True)
    n = len(c["party"])
    vendors = st.add_legals(rng, 4, since, VENDOR_SECTORS)
    st.biz = PayBiz(
        **c,
        paid_life=np.zeros(n, np.int64),
        paid_ytd=np.zeros(n, np.int64),
        ytd_year=warmup.first.year,
        last_topup=np.full(n, -10),
        last_withdraw=np.full(n, -10),
        in_today=np.zeros(n, np.int64),
        in_yesterday=np.zeros(n, np.int64),
        recent_in=np.zeros(n, np.int64),
        fee_rate=float(rng.uniform(0.002, 0.005)),
        vendors=vendors,
        opex_daily=int(plan.paid_in_capital * 0.0001),
    )
    # starting balances: consumers a little spending money, merchants about two days of receipts
    acc = st.accounts
    biz = st.biz
    mean_pay = 35 * 0.55 + 260 * 0.38 + 3500 * 0.07
    acc.balance[biz.wallet[:n_cons]] = to_cents(lognormal_mix(rng, n_cons, ((150.0, 1.0, 1.0),)))
    daily = n_cons * LAMBDA_PAY * mean_pay * 100 * (1 - PEER_SHARE)
    mw = biz.weight[n_cons:] / biz.weight[n_cons:].sum()
    acc.balance[biz.wallet[n_cons:]] = (2 * daily * mw).astype(np.int64)
    acc.balance[rc] = acc.balance[biz.wallet].sum()
    acc.last_activity[biz.wallet] = np.maximum(warmup.first_ord - rng.integers(1, 30, n), biz.open)
    acc.last_activity[[rc, rb, of]] = warmup.first_ord - 1


def _grow(st: EnterpriseState, rng: np.random.Generator, period: Period) -> None:
    biz = st.business(PayBiz)
    n_c = int((~biz.merchant).sum())
    n_new = int(stochastic_round(rng, n_c * st.plan.growth * rng.uniform(0.8, 1.2)))
    n_new_m = int(stochastic_round(rng, n_new / 25))
    days = rng.integers(period.first_ord, period.last_ord + 1, n_new)
    mdays = rng.integers(period.first_ord, period.last_ord + 1, n_new_m)
    c = _new_customers(st, rng, n_new, n_new_m, days, mdays, initial=False)
    k = len(c["party"])
    for name, v in c.items():
        setattr(biz, name, np.concatenate([getattr(biz, name), v]))
    biz.paid_life = np.r_[biz.paid_life, np.zeros(k, np.int64)]
    biz.paid_ytd = np.r_[biz.paid_ytd, np.zeros(k, np.int64)]
    biz.last_topup = np.r_[biz.last_topup, np.full(k, -10)]
    biz.last_withdraw = np.r_[biz.last_withdraw, np.full(k, -10)]
    for name in ("in_today", "in_yesterday", "recent_in"):
        setattr(biz, name, np.r_[getattr(biz, name), np.zeros(k, np.int64)])


def simulate(st: EnterpriseState, period: Period, lg: Ledger, rng: np.random.Generator) -> PeriodOut:
    _grow(st, rng, period)
    biz = st.business(PayBiz)
    acc, parties = st.accounts, st.parties
    rc, rb, of = st.own["RC1"], st.own["RB1"], st.own["OF1"]
    if period.first.year != biz.ytd_year:
        biz.paid_ytd[:] = 0
        biz.ytd_year = period.first.year
    nd = period.ndays
    n = len(biz.party)
    g = st.plan.growth * rng.uniform(0.85, 1.15)
    w0 = float(acc.balance[biz.wallet].sum())
    target = w0 * (1 + g) ** ((np.arange(nd) + 1) / nd)
    factors = day_factors(rng, period.first_ord, nd, "retail")
    r_pay, r_top, r_wd = child(rng, "payments"), child(rng, "top-ups"), child(rng, "withdrawals")
    of_bal = int(acc.balance[of])
    fee_income = 0
    limit_kyc = np.where(biz.kyc == 0, KYC_LIMIT[0] * KYC_MARGIN - biz.paid_life, np.inf)
    for d in range(nd):
        day = period.first_ord + d
        base_t = d * 86400
        active = biz.open <= day
        cons = active & ~biz.merchant
        merch = active & biz.merchant
        bal_start = acc.balance[biz.wallet]
        bal = bal_start.copy()

        # payment proposals
        n_pay = int(rng.poisson(LAMBDA_PAY * cons.sum() * factors[d]))
        payer = weighted_pick(rng, np.where(cons, biz.weight, 0.0), n_pay)
        payee = weighted_pick(rng, np.where(merch, biz.weight, 0.0), n_pay)
        amt = to_cents(lognormal_mix(r_pay, n_pay, PAY_AMOUNTS) * biz.scale[payer])
        peer_j = payer + 1 + np.floor(rng.random(n_pay) * np.maximum(n - payer - 1, 0)).astype(np.int64)
        peer = (rng.random(n_pay) < PEER_SHARE) & (payer < n - 1)
        peer &= cons[np.minimum(peer_j, n - 1)]
        payee = np.where(peer, peer_j, payee)
        amt = np.where(peer, to_cents(lognormal_mix(r_pay, n_pay, PEER_AMOUNTS)), amt)
        amt = avoid_bands(amt, False)
        foreign = parties.country[biz.party] != 0
        pay_t = times_in_day(rng, n_pay, "retail", lo=600)

        # payers short of balance top up first; whoever took in a lot lately spends at most half of it
        need = np.bincount(payer, weights=amt, minlength=n)
        careful = biz.recent_in + biz.in_today >= CAREFUL_INFLOW
        deficit = np.where(careful, 2 * need - bal, need - bal)
        auto = np.flatnonzero(
            (need > 0) & (deficit > 0) & (rng.random(n) < P_AUTO) & (day - biz.last_withdraw >= 3)
        )
        auto_amt = avoid_bands_up(
            deficit[auto].astype(np.int64)
            + (biz.float_[auto] * rng.random(len(auto))).astype(np.int64)
            + 100,
            foreign[auto],
        )
        first_t = np.full(n, 86399)
        np.minimum.at(first_t, payer, pay_t)
        auto_t = np.maximum(first_t[auto] - rng.integers(60, 1800, len(auto)), 0)
        bal[auto] += auto_amt
        biz.in_today[auto] += auto_amt
        careful = biz.recent_in + biz.in_today >= CAREFUL_INFLOW

        # accept payments within the balance (half of it when careful) and the KYC class limits
        yearly = np.where(biz.kyc == 1, KYC_LIMIT[1], np.where(biz.kyc == 2, KYC_LIMIT[2], np.inf))
        limit = np.minimum(
            np.minimum(np.where(careful, bal // 2, bal), limit_kyc), yearly * KYC_MARGIN - biz.paid_ytd
        )
        okp = accept_within(rng, payer, amt, np.floor(limit))
        payer, payee, amt, pay_t = payer[okp], payee[okp], amt[okp], pay_t[okp]
        channel = rng.choice(
            [CH["qr_dynamic"], CH["online_balance"], CH["qr_static"]], size=len(amt), p=[0.45, 0.35, 0.2]
        )
        static_ok = accept_within(rng, payer, amt, np.full(n, STATIC_QR_DAY)) & (amt <= 30_000)
        channel = np.where((channel == CH["qr_static"]) & ~static_ok, CH["qr_dynamic"], channel)
        channel = np.where(peer[okp], CH["online_balance"], channel)
        paid = np.bincount(payer, weights=amt, minlength=n).astype(np.int64)
        got = np.bincount(payee, weights=amt, minlength=n).astype(np.int64)
        bal += got - paid
        biz.in_today += np.where(biz.merchant, 0, got)
        biz.paid_ytd += paid
        biz.paid_life += paid
        limit_kyc = limit_kyc - paid

        # spontaneous top-ups (not spent the same day)
        n_sp = int(rng.poisson(LAMBDA_TOPUP * cons.sum() * factors[d]))
        sp = weighted_pick(rng, np.where(cons, biz.weight, 0.0), n_sp)
        sp = sp[day - biz.last_withdraw[sp] >= 3]
        sp_amt = avoid_bands(
            to_cents(lognormal_mix(r_top, len(sp), TOPUP_AMOUNTS) * biz.scale[sp], 100), foreign[sp]
        )
        np.add.at(bal, sp, sp_amt)
        np.add.at(biz.in_today, sp, sp_amt)
        sp_t = times_in_day(rng, len(sp), "retail")

        # merchants' daily fee on their receipts
        fee_amt = np.rint(np.where(biz.merchant, got, 0) * biz.fee_rate).astype(np.int64)
        fee_who = np.flatnonzero(fee_amt > 0)
        bal[fee_who] -= fee_amt[fee_who]
        fee_income += int(fee_amt.sum())

        # withdrawals, from the start-of-day balance, keeping the wallet total on its growth path
        mw = merch & (bal_start > 0) & (rng.random(n) < 0.8)
        cw = (
            cons
            & ~biz.related
            & (bal > np.maximum(biz.float_, 5_000))
            & (day - biz.last_topup >= 3)
            & (rng.random(n) < 0.08)
        )
        prop = np.where(mw, benford_below(r_wd, bal_start * 0.45), 0.0)
        prop += np.where(cw, benford_below(r_wd, np.maximum(bal, 0) * 0.45), 0.0)
        wd = avoid_bands(scale_to_budget(prop, float(bal.sum()) - target[d], 1000), foreign)
        wd_who = np.flatnonzero(wd > 0)
        bal[wd_who] -= wd[wd_who]
        wd_t = times_in_day(rng, len(wd_who), "office", lo=8 * 3600, hi=22 * 3600)

        if (bal < 0).any():
            raise AssertionError("PAY simulation drove a wallet negative")
        acc.balance[biz.wallet] = bal

        # book the legs
        topup_who = np.r_[auto, sp]
        topup_amt = np.r_[auto_amt, sp_amt]
        top_ch = np.where(
            parties.country[biz.party[topup_who]] == 0,
            rng.choice([CH["card"], CH["transfer"]], size=len(topup_who), p=[0.7, 0.3]),
            CH["transfer"],
        )
        inflow(
            lg,
            parties,
            t=base_t + np.r_[auto_t, sp_t],
            party=biz.party[topup_who],
            acct=biz.wallet[topup_who],
            bank_acct=rb,
            amt=topup_amt,
            ch=top_ch,
            pur=PUR["top_up"],
        )
        ev = lg.new_events(len(amt))
        lg.add(
            ev=ev,
            cust=True,
            t=base_t + pay_t,
            dr=biz.wallet[payer],
            cr=biz.wallet[payee],
            payer=biz.party[payer],
            payee=biz.party[payee],
            amt=amt,
            ch=channel,
            pur=PUR["payment"],
        )
        fee(
            lg,
            t=base_t + 86220,
            payer=biz.party[fee_who],
            acct=biz.wallet[fee_who],
            bank_view=rc,
            own=of,
            amt=fee_amt[fee_who],
        )
        outflow(
            lg,
            parties,
            t=base_t + wd_t,
            party=biz.party[wd_who],
            acct=biz.wallet[wd_who],
            bank_acct=rc,
            amt=wd[wd_who],
            ch=CH["transfer"],
            pur=PUR["withdrawal"],
        )
        swept = int(topup_amt.sum())
        if swept:
            lg.add(
                ev=lg.new_events(1),
                cust=False,
                t=base_t + 86100,
                dr=rb,
                cr=rc,
                amt=swept,
                ch=CH["transfer"],
                pur=PUR["internal"],
            )
        biz.last_topup[topup_who] = day
        biz.last_withdraw[wd_who] = day
        biz.recent_in = biz.in_yesterday + biz.in_today
        biz.in_yesterday = biz.in_today
        biz.in_today = np.zeros(n, np.int64)

        # operating expenses from own funds on working days
        of_bal += int(fee_amt.sum())
        if is_working_ordinal(period.first_ord + d):
            cost = int(min(biz.opex_daily * np.exp(0.5 * rng.standard_normal()), of_bal * 0.02))
            if cost > 0:
                vendor = biz.vendors[rng.integers(len(biz.vendors))]
                bank_external(
                    lg,
                    parties,
                    t=base_t + int(rng.integers(9 * 3600, 17 * 3600)),
                    acct=of,
                    counterparty=[vendor],
                    amt=cost,
                    pur=PUR["payment"],
                    outgoing=True,
                )
                of_bal -= cost
    return PeriodOut(opex_daily=biz.opex_daily, fee_income=fee_income)


__all__ = ["init", "simulate"]
