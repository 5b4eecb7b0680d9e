"""WM: online fund sales. Investors pay into sub-accounts at the custodian bank and subscribe money-market
and other funds through the platform's SETTLEMENT account (settled with each fund the same day); they
redeem, get the money back in their sub-account and withdraw it later."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.synth.books import CLS
from pipelines.synth.business.base import PeriodOut
from pipelines.synth.business.common import avoid_bands, avoid_bands_up, pay_operating_costs, scale_to_budget
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
from pipelines.synth.tables import dates, ids

LEGS_PER_INVESTOR = 9.6
ACTIVE_PER_LEG = 0.09
LAMBDA_SUB = 0.015  # subscriptions per investor-day
LAMBDA_RED = 0.02  # redemption proposals per position-day
SUB_AMOUNTS = ((2000.0, 1.0, 0.6), (20000.0, 1.0, 0.38), (150000.0, 0.7, 0.02))
MAX_RED_SHARE = 0.015  # of AUM per day
RED_CAP = 8_000_000  # cents: big holders redeem in pieces (keeps outflows from being one investor's)
PRODUCTS = (("mmf", 0.0), ("mmf", 0.0), ("fund", 0.0015), ("fund", 0.0012), ("fund", 0.001))
VENDOR_SECTORS = (("I", 0.5), ("L", 0.3), ("M", 0.2))


@dataclass
class WMBiz:
    party: np.ndarray  # investors
    acct: np.ndarray
    weight: np.ndarray
    scale: np.ndarray
    related: np.ndarray
    last_topup: np.ndarray
    last_withdraw: np.ndarray
    fund_party: np.ndarray  # one fund (legal person) per product
    kinds: tuple[str, ...]
    fee_rate: np.ndarray
    pos: np.ndarray  # investor x product -> position number or -1
    principal: np.ndarray  # investor x product holding (cents)
    start: np.ndarray  # investor x product first subscription (ordinal)
    inv_seq: int
    vendors: np.ndarray
    opex_daily: int


def _new_investors(
    st: EnterpriseState, rng: np.random.Generator, n: int, open_day: np.ndarray, *, related: int = 0
) -> dict[str, np.ndarray]:
    """n new investors with a sub-account each: the per-investor columns of WMBiz."""
    legal = rng.random(n) < 0.04
    legal[:related] = False
    rel = np.zeros(n, bool)
    rel[:related] = True
    open_day = np.broadcast_to(np.asarray(open_day, np.int64), (n,))
    party = np.empty(n, np.int64)
    nat = np.flatnonzero(~legal)
    party[nat] = st.add_naturals(
        rng,
        len(nat),
        open_day[nat],
        foreign_share=0.03,
        shared_share=0.02,
        related=rel[nat],
        dishonest=rng.random(len(nat)) < 0.003,
    )
    leg = np.flatnonzero(legal)
    party[leg] = st.add_legals(rng, len(leg), open_day[leg], (("C", 0.3), ("F", 0.3), ("I", 0.2), ("L", 0.2)))
    acct = st.accounts.add(
        names=[f"S{i + 1:07d}" for i in range(len(st.accounts), len(st.accounts) + n)],
        cls=CLS["CUSTOMER_SUB"],
        open_day=open_day,
        owner=party,
        parent=st.own["CS1"],
    )
    scale = np.exp(0.5 * rng.standard_normal(n)) * np.where(legal, 2.0, 1.0)
    new = dict(
        party=party,
        acct=acct,
        weight=np.exp(0.8 * rng.standard_normal(n)),
        scale=scale,
        related=rel,
        last_topup=np.full(n, -10),
        last_withdraw=np.full(n, -10),
    )
    return new


def _add_investors(st: EnterpriseState, rng: np.random.Generator, n: int, open_day: np.ndarray) -> None:
    """Investors joining during a period, appended to the business state."""
    biz = st.business(WMBiz)
    for k, v in _new_investors(st, rng, n, open_day).items():
        setattr(biz, k, np.concatenate([getattr(biz, k), v]))
    np_ = len(biz.kinds)
    biz.pos = np.vstack([biz.pos, np.full((n, np_), -1)])
    biz.principal = np.vstack([biz.principal, np.zeros((n, np_), np.int64)])
    biz.start = np.vstack([biz.start, np.full((n, np_), -1)])


def init(st: EnterpriseState, rng: np.random.Generator, warmup: Period) -> None:
    plan = st.plan
    since = warmup.first_ord - int(rng.integers(800, 2500))
    cs = st.add_own_account("CS1", CLS["CUSTODY_SUMMARY"], plan.custodian, since)
    st.add_own_account(
        "OF1",
        CLS["OWN_FUNDS"],
        plan.own_bank,
        since,
        balance=int(plan.paid_in_capital * rng.uniform(0.3, 0.5)),
    )
    st.add_own_account("ST1", CLS["SETTLEMENT"], plan.custodian, since)
    st.bank_view = cs
    n = max(60, int(plan.legs_per_month / LEGS_PER_INVESTOR))
    n_prod = 2 if n < 300 else len(PRODUCTS)
    prods = PRODUCTS[:1] + PRODUCTS[2:3] if n_prod == 2 else PRODUCTS
    funds = st.add_legals(rng, len(prods), since, (("K", 1.0),))
    new = _new_investors(st, rng, n, rng.integers(since, warmup.first_ord, n), related=2)
    hold = np.exp(np.log(15000) + 0.7 * rng.standard_normal((n, len(prods)))) * new["scale"][:, None] * 100
    has = rng.random((n, len(prods))) < np.array([0.7] + [0.35] * (len(prods) - 1))
    principal = np.where(has, hold, 0).astype(np.int64)
    pos = np.full((n, len(prods)), -1)
    pos[has] = np.arange(int(has.sum()))
    start = np.where(has, st.accounts.open[new["acct"]][:, None] + rng.integers(0, 60, (n, len(prods))), -1)
    start = np.minimum(start, warmup.first_ord - 1)
    st.biz = WMBiz(
        **new,
        fund_party=funds,
        kinds=tuple(k for k, _ in prods),
        fee_rate=np.array([f for _, f in prods]),
        pos=pos,
        principal=principal,
        start=start,
        inv_seq=int(has.sum()),
        vendors=st.add_legals(rng, 3, since, VENDOR_SECTORS),
        opex_daily=int(plan.paid_in_capital * 0.00005),
    )
    acc = st.accounts
    acc.balance[new["acct"]] = to_cents(np.exp(np.log(500) + 1.0 * rng.standard_normal(n)))
    acc.balance[cs] = acc.balance[new["acct"]].sum()
    acc.last_activity[new["acct"]] = warmup.first_ord - rng.integers(1, 30, n)
    acc.last_activity[list(st.own.values())] = warmup.first_ord - 1


def simulate(st: EnterpriseState, period: Period, lg: Ledger, rng: np.random.Generator) -> PeriodOut:
    biz = st.business(WMBiz)
    acc, parties = st.accounts, st.parties
    cs, of, stl = st.own["CS1"], st.own["OF1"], st.own["ST1"]
    n_new = int(stochastic_round(rng, len(biz.party) * st.plan.growth))
    if n_new:
        _add_investors(st, rng, n_new, rng.integers(period.first_ord, period.last_ord + 1, n_new))
    n, np_ = len(biz.party), len(biz.kinds)
    nd = period.ndays
    foreign = parties.country[biz.party] != 0
    g = st.plan.growth * rng.uniform(0.85, 1.15)
    growth = (1 + g) ** ((np.arange(nd) + 1) / nd)
    aum_target = float(biz.principal.sum()) * growth
    idle_target = float(acc.balance[biz.acct].sum()) * growth
    factors = day_factors(rng, period.first_ord, nd, "office")
    r_sub, r_red, r_wd = child(rng, "subscriptions"), child(rng, "redemptions"), child(rng, "withdrawals")
    held = biz.principal > 0  # positions held at some time in the period
    aum = np.zeros(nd, np.int64)
    net_red = np.zeros(nd, np.int64)
    fee_income = 0
    of_bal = int(acc.balance[of])
    for d in range(nd):
        day = period.first_ord + d
        base_t = d * 86400
        bal = acc.balance
        active = acc.open[biz.acct] <= day

        # subscriptions, paid in from the investor's bank account where the sub-account does not cover them
        w = np.where(active & (day - biz.last_withdraw >= 3), biz.weight, 0.0)
        who = np.unique(weighted_pick(rng, w, int(rng.poisson(LAMBDA_SUB * active.sum() * factors[d]))))
        prod = rng.choice(np_, size=len(who), p=np.r_[0.6, np.full(np_ - 1, 0.4 / (np_ - 1))])
        amt = to_cents(lognormal_mix(r_sub, len(who), SUB_AMOUNTS) * biz.scale[who], 10_000)
        fees = np.rint(amt * biz.fee_rate[prod]).astype(np.int64)
        need = amt + fees
        short = need > bal[biz.acct[who]]
        top_amt = avoid_bands_up(
            need - bal[biz.acct[who]] + to_cents(rng.uniform(0, 200, len(who))), foreign[who]
        )
        t0 = base_t + times_in_day(rng, len(who), "office", lo=8 * 3600, hi=21 * 3600)
        tw = who[short]
        inflow(
            lg,
            parties,
            t=t0[short] - 300,
            party=biz.party[tw],
            acct=biz.acct[tw],
            bank_acct=cs,
            amt=top_amt[short],
            ch=CH["transfer"],
            pur=PUR["top_up"],
        )
        np.add.at(bal, biz.acct[tw], top_amt[short])
        biz.last_topup[tw] = day
        fresh = biz.pos[who, prod] < 0
        biz.pos[who[fresh], prod[fresh]] = np.arange(biz.inv_seq, biz.inv_seq + int(fresh.sum()))
        biz.start[who[fresh], prod[fresh]] = day
        biz.inv_seq += int(fresh.sum())
        ev = lg.new_events(len(who))
        lg.add(
            ev=ev,
            cust=True,
            t=t0,
            dr=biz.acct[who],
            cr=stl,
            payer=biz.party[who],
            amt=amt,
            ch=CH["online_balance"],
            pur=PUR["investment"],
            inv=biz.pos[who, prod],
        )
        lg.add(
            ev=ev,
            cust=False,
            t=t0,
            dr=cs,
            cr=stl,
            amt=amt,
            ch=CH["transfer"],
            pur=PUR["investment"],
            inv=biz.pos[who, prod],
        )
        paid_fee = fees > 0
        fee(
            lg,
            t=t0[paid_fee] + 30,
            payer=biz.party[who[paid_fee]],
            acct=biz.acct[who[paid_fee]],
            bank_view=cs,
            own=of,
            amt=fees[paid_fee],
        )
        fee_income += int(fees.sum())
        of_bal += int(fees.sum())
        np.subtract.at(bal, biz.acct[who], need)
        np.add.at(biz.principal, (who, prod), amt)
        held[who, prod] = True
        subs = int(amt.sum())

        # redemptions, keeping assets under management on their growth path
        hold_i, hold_p = np.nonzero(biz.principal > 0)
        k = int(rng.poisson(LAMBDA_RED * len(hold_i) * factors[d]))
        pick = np.unique(weighted_pick(rng, biz.principal[hold_i, hold_p].astype(float), k))
        ri, rp = hold_i[pick], hold_p[pick]
        held_now = biz.principal[ri, rp]
        full = (rng.random(len(pick)) < 0.1) & (held_now <= RED_CAP)
        prop = np.where(full, held_now, benford_below(r_red, np.minimum(held_now, RED_CAP)))
        budget = min(float(biz.principal.sum()) - aum_target[d], MAX_RED_SHARE * float(biz.principal.sum()))
        red = scale_to_budget(prop, budget, 1000)
        m = red > 0
        ri, rp, red = ri[m], rp[m], red[m]
        t1 = base_t + times_in_day(rng, len(ri), "office", lo=9 * 3600, hi=15 * 3600)
        ev = lg.new_events(len(ri))
        lg.add(
            ev=ev,
            cust=True,
            t=t1,
            dr=stl,
            cr=biz.acct[ri],
            payee=biz.party[ri],
            amt=red,
            ch=CH["online_balance"],
            pur=PUR["redemption"],
            inv=biz.pos[ri, rp],
        )
        lg.add(
            ev=ev,
            cust=False,
            t=t1,
            dr=stl,
            cr=cs,
            amt=red,
            ch=CH["transfer"],
            pur=PUR["redemption"],
            inv=biz.pos[ri, rp],
        )
        np.subtract.at(biz.principal, (ri, rp), red)
        np.add.at(bal, biz.acct[ri], red)
        reds = int(red.sum())

        # settlement with the funds, gross: each subscription paid on, each redemption received
        bank_external(
            lg,
            parties,
            t=t0 + 600,
            acct=stl,
            counterparty=biz.fund_party[prod],
            amt=amt,
            pur=PUR["payment"],
            outgoing=True,
        )
        bank_external(
            lg,
            parties,
            t=t1 - 600,
            acct=stl,
            counterparty=biz.fund_party[rp],
            amt=red,
            pur=PUR["payment"],
            outgoing=False,
        )

        # investors take idle money home, keeping the idle total on its growth path
        idle = bal[biz.acct]
        cand = active & ~biz.related & (idle > 10_000) & (day - biz.last_topup >= 3) & (rng.random(n) < 0.1)
        prop = np.where(cand, benford_below(r_wd, idle), 0.0)
        wd = avoid_bands(scale_to_budget(prop, float(idle.sum()) - idle_target[d], 1000), foreign)
        ww = np.flatnonzero(wd > 0)
        outflow(
            lg,
            parties,
            t=base_t + times_in_day(rng, len(ww), "office", lo=8 * 3600, hi=22 * 3600),
            party=biz.party[ww],
            acct=biz.acct[ww],
            bank_acct=cs,
            amt=wd[ww],
            ch=CH["transfer"],
            pur=PUR["withdrawal"],
        )
        bal[biz.acct[ww]] -= wd[ww]
        biz.last_withdraw[ww] = day

        of_bal -= pay_operating_costs(lg, parties, rng, biz.opex_daily, biz.vendors, of, of_bal, base_t, day)
        aum[d] = biz.principal.sum()
        net_red[d] = reds - subs

    hi, hp = np.nonzero(held)
    inv = pl.DataFrame(
        {
            "investment_id": ids("inv", biz.pos[hi, hp]),
            "as_of_date": dates(np.full(len(hi), period.last_ord)),
            "investor_party_id": ids("party", biz.party[hi]),
            "product_type": pl.Series([biz.kinds[p] for p in hp.tolist()], dtype=pl.String),
            "principal": biz.principal[hi, hp],
            "start_date": dates(biz.start[hi, hp]),
        }
    ).sort("investment_id")
    return PeriodOut(
        investments=inv, aum=aum, net_redemptions=net_red, opex_daily=biz.opex_daily, fee_income=fee_income
    )
