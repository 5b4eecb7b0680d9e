"""One enterprise through all periods: warm-up month, then per period simulate, inject, derive, file, deliver.

Enterprises are independent (each has its own random streams), so they can run in parallel processes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.filing_package import writer
from pipelines.synth import aml, complaints, delivery, filings, incidents
from pipelines.synth.balances import derive, negative_rows
from pipelines.synth.business import module
from pipelines.synth.inject import REGISTRY, Case, Context, Injector
from pipelines.synth.ledger import CH, PUR, Ledger, inflow
from pipelines.synth.periods import Period, period_of, shift
from pipelines.synth.population import EnterprisePlan
from pipelines.synth.rng import stream
from pipelines.synth.seeds import filing_requirements
from pipelines.synth.state import EnterpriseState
from pipelines.synth.transactions import finalize, transactions_table


@dataclass
class Job:
    plan: EnterprisePlan
    seed: int
    periods: list[Period]
    landing: Path
    cases: dict[int, list[Case]]  # period index -> the cases injected there
    gzip_transactions: bool


@dataclass
class Result:
    enterprise_id: str
    packages: list[tuple[str, datetime]] = field(default_factory=list)  # (submission_id, delivered)
    cases: list[Case] = field(default_factory=list)
    rows: Counter = field(default_factory=Counter)


def run(job: Job) -> Result:
    plan = job.plan
    st = EnterpriseState(plan=plan, seed=job.seed)
    biz = module(plan.ent_type)
    warm = period_of(shift(job.periods[0].label, -1), -1)
    biz.init(st, stream(job.seed, plan.index, "init"), warm)
    result = Result(plan.enterprise_id)
    _period(job, st, warm, [], result)
    st.pending_lvtr = aml.Reports.empty()  # the warm-up month is never filed: its reports stay there
    for p in job.periods:
        _period(job, st, p, job.cases.get(p.index, []), result)
    return result


def _failed_attempts(
    st: EnterpriseState,
    lg: Ledger,
    rng: np.random.Generator,
    period: Period,
    events: list[incidents.Incident],
) -> None:
    """Customers trying to top up during an unplanned outage: failed customer and bank legs."""
    acc = st.accounts
    for inc in events:
        if inc.kind != "outage" or inc.planned or inc.failed == 0:
            continue
        day = period.first_ord + inc.start // 86400
        cands = np.flatnonzero(acc.is_customer() & (acc.open <= day) & (acc.campaign < 0))
        if len(cands) == 0:
            inc.failed = 0
            continue
        who = rng.choice(cands, size=inc.failed)
        t = rng.integers(inc.start, inc.end, inc.failed)
        amt = np.maximum(np.rint(np.exp(np.log(20_000) + rng.standard_normal(inc.failed))), 100).astype(
            np.int64
        )
        inflow(
            lg,
            st.parties,
            t=t,
            party=acc.owner[who],
            acct=who,
            bank_acct=st.bank_view,
            amt=amt,
            ch=CH["card"],
            pur=PUR["top_up"],
            failed=True,
        )


def _check_clean(st: EnterpriseState, bal, legs_customer_balance: np.ndarray, injected: bool) -> None:
    """The identities the clean data must satisfy (an injection may break only the reserve one)."""
    acc = st.accounts
    cust = np.flatnonzero(acc.is_customer())
    if not np.array_equal(bal.closing[cust], legs_customer_balance[cust]):
        raise AssertionError(f"{st.plan.enterprise_id}: customer balances do not follow from the legs")
    neg = negative_rows(bal.table, acc)
    if neg.height:
        raise AssertionError(f"{st.plan.enterprise_id}: negative balances\n{neg.head()}")
    if st.plan.ent_type == "PAY":
        reserves = bal.own_daily[st.own["RC1"]] + bal.own_daily[st.own["RB1"]]
        if not injected and not np.array_equal(reserves, bal.customer_total):
            raise AssertionError(f"{st.plan.enterprise_id}: reserves differ from the wallet total")
        if (bal.own_daily[st.own["RB1"]] != 0).any():
            raise AssertionError(f"{st.plan.enterprise_id}: RESERVE_BANK not swept")
    else:
        if not np.array_equal(bal.own_daily[st.own["CS1"]], bal.customer_total):
            raise AssertionError(f"{st.plan.enterprise_id}: custody differs from the sub-account total")


def _period(job: Job, st: EnterpriseState, period: Period, cases: list[Case], result: Result) -> None:
    plan = st.plan
    eid = plan.enterprise_id
    key = (job.seed, plan.index, period.index + 1)
    active = [
        (
            REGISTRY[case.cls],
            Context(
                case=case, plan=plan, period=period, rng=stream(*key, "inject", *([n] if n else [])), state=st
            ),
        )
        for n, case in enumerate(cases)
    ]
    for inj, ctx in active:
        inj.prepare(ctx)

    opening = st.accounts.balance.copy()
    last_activity = st.accounts.last_activity.copy()
    lg = Ledger()
    out = module(plan.ent_type).simulate(st, period, lg, stream(*key, "business"))
    simulated = st.accounts.balance.copy()
    events = incidents.plan(stream(*key, "incidents"), period)
    _failed_attempts(st, lg, stream(*key, "failed"), period, events)
    for inj, ctx in active:
        ctx.opening = opening
        inj.adjust_legs(ctx, lg)
    legs = finalize(lg, enterprise_id=eid, period=period, outages=incidents.outages(events))
    if period.index >= 0 and not any(inj.files_nothing for inj, _ in active):
        st.filed_totals.append(int(legs["amt"].sum()))  # what M009's history will hold (macro.sudden_jump)
    bal = derive(legs, st.accounts, opening, period, eid)
    _check_clean(
        st,
        bal,
        np.concatenate([simulated, np.zeros(len(st.accounts) - len(simulated), np.int64)]),
        injected=bool(active),
    )
    st.accounts.balance = bal.closing
    st.accounts.last_activity = bal.last_activity

    # complaints from active customers: owners of customer accounts on ok customer legs
    acc = st.accounts
    ok_cust = legs.filter(pl.col("cust") & ~pl.col("failed"))
    touched = np.unique(np.r_[ok_cust["dr"].to_numpy(), ok_cust["cr"].to_numpy()])
    touched = touched[touched >= 0]
    customers = np.unique(acc.owner[touched[acc.is_customer()[touched]]])
    rng_c = stream(*key, "complaints")
    mult = float(np.prod([ctx.complaint_multiplier for _, ctx in active]))
    count = complaints.draw_count(rng_c, plan.complaint_rate, len(customers), mult)
    count = max([count, *(ctx.complaint_minimum for _, ctx in active)])
    new = complaints.receive(rng_c, period, count, customers, st.complaint_seq, plan.ent_type)
    st.complaint_seq += count
    filed_complaints = st.open_complaints.concat(new)
    st.open_complaints = complaints.still_open(filed_complaints, period)

    # nothing filed after this period (the last one, or the next one is never filed: timeliness.missing):
    # its month-end large-value transactions are reported by its own end, not stranded in a missing filing
    last = period.index == len(job.periods) - 1 or any(
        REGISTRY[c.cls].files_nothing for c in job.cases.get(period.index + 1, [])
    )
    now, later, st.lvtr_seq = aml.report(
        stream(*key, "aml"), legs, st.parties, period, start_seq=st.lvtr_seq, last_period=last
    )
    reports = st.pending_lvtr.concat(now)
    st.pending_lvtr = later
    if period.index < 0:
        return
    strs, st.str_seq = aml.suspicious(stream(*key, "str"), legs, period, start_seq=st.str_seq)

    tables: dict[str, pl.DataFrame] = {
        "enterprise_profile": filings.profile(plan),
        "parties": filings.parties(st.parties, period, plan),
        "accounts": filings.accounts(acc, period, eid, last_activity),
        "account_balances": bal.table,
        "transactions": transactions_table(legs, enterprise_id=eid, period=period, account_names=acc.name),
        "complaints": complaints.table(filed_complaints, period, eid, plan.ent_type),
        "incidents": incidents.table(events, period, eid),
        "aml_reports": pl.concat([aml.table(reports, eid), aml.table(strs, eid, "STR")]),
    }
    if out.loans is not None:
        tables["loans"] = out.loans.with_columns(enterprise_id=pl.lit(eid))
    if out.investments is not None:
        tables["investments"] = out.investments.with_columns(enterprise_id=pl.lit(eid))
    if plan.ent_type in ("PAY", "WM"):
        own = bal.own_daily[st.own["OF1"]]
        tables["liquidity"] = filings.liquidity(
            period,
            eid,
            bal.customer_total,
            own,
            out.opex_daily,
            out.fee_income,
            stable_share=0.6 if plan.ent_type == "PAY" else 0.4,
            aum=out.aum,
            net_redemptions=out.net_redemptions,
        )
    for inj, ctx in active:
        inj.adjust_tables(ctx, tables)

    _deliver(job, st, period, active, tables, result)
    st.filed_balances = tables["account_balances"]  # the current version (a resubmission's v2)


def _deliver(
    job: Job,
    st: EnterpriseState,
    period: Period,
    active: list[tuple[Injector, Context]],
    tables: dict[str, pl.DataFrame],
    result: Result,
) -> None:
    plan = st.plan
    eid = plan.enterprise_id
    resubmitting = [(inj, ctx) for inj, ctx in active if inj.resubmits]
    if len(resubmitting) > 1 or (resubmitting and len(active) > 1):
        raise AssertionError(f"{eid} {period.label}: a resubmitted case must have its submission alone")
    rng = stream(job.seed, plan.index, period.index + 1, "delivery")
    owed = filing_requirements()[plan.ent_type]
    missing = [ft for ft in owed if ft not in tables]
    if missing:
        raise AssertionError(f"{eid}: no table for {missing}")

    def files(tabs: dict[str, pl.DataFrame]) -> list[writer.FileOut]:
        return [
            writer.encode(ft, tabs[ft], compress=ft == "transactions" and job.gzip_transactions)
            for ft in owed
        ]

    clean = files(tables)
    # (files, delivered, tamper(folder, manifest) for a broken v1)
    versions: list[tuple[list[writer.FileOut], datetime, Callable[[Path, dict], None] | None]] = []
    if resubmitting:
        inj, ctx = resubmitting[0]
        v1_at, v2_at = delivery.broken_then_fixed(rng, period)
        broken_tables = inj.break_tables(ctx, tables)
        broken = clean if broken_tables is tables else files(broken_tables)
        versions.append((broken, v1_at, lambda folder, manifest: inj.break_files(ctx, folder, manifest)))
        versions.append((clean, v2_at, None))
    else:
        times = [delivery.on_time(rng, period)]
        for inj, ctx in active:
            times = inj.delivery(ctx, times)
        if times:  # none: never filed (timeliness.missing)
            versions.append((clean, times[0], None))

    previous = None
    for v, (fs, at, tamper) in enumerate(versions, start=1):
        sid = f"{eid}-{period.label}-v{v}"
        head = {
            "spec_version": "1.0",
            "submission_id": sid,
            "enterprise_id": eid,
            "period": period.label,
            "version": v,
            "supersedes": previous,
        }
        writer.write(job.landing / eid / sid, head, fs, at, tamper)
        result.packages.append((sid, at))
        previous = sid
    for ft in owed:
        result.rows[ft] += tables[ft].height
    result.cases.extend(ctx.case for _, ctx in active)
