"""A loan book funded lender by lender (P2P loans, CF debt campaigns): equal-principal monthly installments,
some borrowers stop paying (a part of them cure later, the rest are written off past 180 days), positions
one per lender per loan, month-end snapshots for the loans and investments filings."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import polars as pl

from pipelines.synth.books import PartyBook
from pipelines.synth.business.common import avoid_bands_up, split_proportional
from pipelines.synth.ledger import CH, PUR, Ledger, fee, inflow
from pipelines.synth.periods import Period, add_months
from pipelines.synth.rng import times_in_day
from pipelines.synth.tables import dates, ids

MAX_TERM = 24
WRITE_OFF_DPD = 180


def _i64(n: int = 0) -> np.ndarray:
    return np.zeros(n, np.int64)


@dataclass
class Loans:
    no: np.ndarray = field(default_factory=_i64)  # loan number (id LN...)
    borrower: np.ndarray = field(default_factory=_i64)  # party
    acct: np.ndarray = field(default_factory=_i64)  # borrower's sub-account
    principal: np.ndarray = field(default_factory=_i64)  # contract principal (cents)
    n_inst: np.ndarray = field(default_factory=_i64)
    apr: np.ndarray = field(default_factory=_i64)  # millionths
    apr_comp: np.ndarray = field(default_factory=_i64)
    fee: np.ndarray = field(default_factory=_i64)  # platform fee per installment (cents)
    orig: np.ndarray = field(default_factory=_i64)  # ordinal
    camp: np.ndarray = field(default_factory=_i64)  # campaign or -1
    paid: np.ndarray = field(default_factory=_i64)  # installments paid
    outstanding: np.ndarray = field(default_factory=_i64)
    written_off: np.ndarray = field(default_factory=_i64)  # cumulative
    default_at: np.ndarray = field(default_factory=_i64)  # first installment not paid (n_inst + 1: never)
    cure_day: np.ndarray = field(default_factory=_i64)  # ordinal on which arrears are paid, or -1
    ended: np.ndarray = field(default_factory=_i64)  # ordinal of full repayment or write-off, or -1

    def __len__(self) -> int:
        return len(self.no)

    def append(self, other: Loans) -> None:
        for f in fields(self):
            setattr(self, f.name, np.concatenate([getattr(self, f.name), getattr(other, f.name)]))

    def take(self, m: np.ndarray) -> Loans:
        return Loans(**{f.name: getattr(self, f.name)[m] for f in fields(self)})


@dataclass
class Positions:
    loan: np.ndarray = field(default_factory=_i64)  # index into Loans (kept sorted)
    no: np.ndarray = field(default_factory=_i64)  # investment number (id IV...)
    lender: np.ndarray = field(default_factory=_i64)  # party
    acct: np.ndarray = field(default_factory=_i64)
    principal: np.ndarray = field(default_factory=_i64)

    def append(self, other: Positions) -> None:
        for f in fields(self):
            setattr(self, f.name, np.concatenate([getattr(self, f.name), getattr(other, f.name)]))

    def take(self, m: np.ndarray) -> Positions:
        return Positions(**{f.name: getattr(self, f.name)[m] for f in fields(self)})


def schedule(loans: Loans) -> tuple[np.ndarray, np.ndarray]:
    """(due dates, scheduled principal) per loan and installment 1..MAX_TERM (0 principal beyond the term)."""
    k = np.arange(1, MAX_TERM + 1)
    due = add_months(loans.orig[:, None], k[None, :])
    base = loans.principal // np.maximum(loans.n_inst, 1)
    sched = np.where(k[None, :] < loans.n_inst[:, None], base[:, None], 0)
    last = loans.principal - base * (loans.n_inst - 1)
    sched = np.where(k[None, :] == loans.n_inst[:, None], last[:, None], sched)
    return due, sched


def terms(
    rng: np.random.Generator,
    n: int,
    *,
    months: tuple[int, ...],
    weights: tuple[float, ...],
    apr_range: tuple[float, float],
    fee_monthly: tuple[float, float],
    principal: np.ndarray,
    p_default: float,
) -> dict[str, np.ndarray]:
    """Contract terms and behaviour of n new loans."""
    n_inst = rng.choice(months, size=n, p=np.array(weights) / sum(weights)).astype(np.int64)
    apr = np.round(rng.uniform(*apr_range, n), 4)
    fee_rate = rng.uniform(*fee_monthly, n)
    fee = np.rint(principal * fee_rate).astype(np.int64)
    # all-in cost: the fee on the original principal against the average outstanding (about half of it)
    comp = np.minimum(apr + fee_rate * 12 * 2 * n_inst / (n_inst + 1), 0.35)
    default = rng.random(n) < p_default
    default_at = np.where(default, rng.integers(1, n_inst + 1), n_inst + 1)
    return {
        "n_inst": n_inst,
        "apr": np.rint(apr * 1e6).astype(np.int64),
        "apr_comp": np.rint(np.maximum(comp, apr) * 1e6).astype(np.int64),
        "fee": fee,
        "default_at": default_at.astype(np.int64),
    }


def cure_days(rng: np.random.Generator, loans: Loans, p_cure: float) -> np.ndarray:
    """For defaulting loans: the day arrears get paid (20-75 days after the missed installment), or -1."""
    due, _ = schedule(loans)
    k = np.clip(loans.default_at - 1, 0, MAX_TERM - 1)
    missed = due[np.arange(len(loans)), k]
    cure = (loans.default_at <= loans.n_inst) & (rng.random(len(loans)) < p_cure)
    return np.where(cure, missed + rng.integers(20, 76, len(loans)), -1)


def age_to(loans: Loans, day: int) -> Loans:
    """Installments of loans originated before `day` settled as their behaviour says (history before the
    simulation starts); loans repaid or past write-off by then are dropped."""
    due, sched = schedule(loans)
    k_due = (due < day).sum(axis=1)
    k_due = np.minimum(k_due, loans.n_inst)
    cured = (loans.cure_day >= 0) & (loans.cure_day < day)
    paid = np.where((loans.default_at > k_due) | cured, k_due, loans.default_at - 1)
    loans.paid = paid
    loans.default_at = np.where(cured, loans.n_inst + 1, loans.default_at)
    loans.cure_day = np.where(cured, -1, loans.cure_day)
    k = np.arange(1, MAX_TERM + 1)
    loans.outstanding = loans.principal - (sched * (k[None, :] <= paid[:, None])).sum(axis=1)
    first_unpaid = due[np.arange(len(loans)), np.clip(paid, 0, MAX_TERM - 1)]
    dpd = np.where((paid < loans.n_inst) & (first_unpaid < day), day - first_unpaid, 0)
    keep = (loans.outstanding > 0) & (dpd <= WRITE_OFF_DPD)
    return loans.take(keep)


@dataclass
class DayRepayments:
    loan: np.ndarray  # loan index
    principal: np.ndarray
    interest: np.ndarray
    fee: np.ndarray


def due_today(loans: Loans, day: int) -> DayRepayments:
    """What borrowers pay today: the installment due today if they are performing, or all arrears on their
    cure day. Updates paid/outstanding; the caller splits it over the positions."""
    active = loans.ended < 0
    due, sched = schedule(loans)
    idx = np.arange(len(loans))
    nxt = np.clip(loans.paid, 0, MAX_TERM - 1)
    regular = (
        active & (loans.paid < loans.n_inst) & (due[idx, nxt] == day) & (loans.paid + 1 < loans.default_at)
    )
    cure = active & (loans.cure_day == day)
    k = np.arange(1, MAX_TERM + 1)
    upto = np.where(cure, (due <= day).sum(axis=1), np.where(regular, loans.paid + 1, loans.paid))
    upto = np.minimum(upto, loans.n_inst)
    pay = regular | cure
    n_paid = np.where(pay, upto - loans.paid, 0)
    principal = (sched * ((k[None, :] > loans.paid[:, None]) & (k[None, :] <= upto[:, None]))).sum(axis=1)
    interest = np.rint(loans.outstanding * loans.apr / 1e6 / 12 * n_paid).astype(np.int64)
    fee = loans.fee * n_paid
    which = np.flatnonzero(pay & (principal > 0))
    loans.paid[which] = upto[which]
    loans.outstanding[which] -= principal[which]
    loans.default_at[cure] = loans.n_inst[cure] + 1
    loans.cure_day[cure] = -1
    loans.ended[which[loans.outstanding[which] == 0]] = day
    return DayRepayments(which, principal[which], interest[which], fee[which])


def split_over_positions(
    pos: Positions, loan_idx: np.ndarray, amounts: list[np.ndarray]
) -> tuple[np.ndarray, ...]:
    """Positions of the given loans and each amount split over them in proportion to their principal."""
    sel = np.flatnonzero(np.isin(pos.loan, loan_idx))
    group = np.searchsorted(loan_idx, pos.loan[sel])  # loan_idx sorted
    out = [split_proportional(a, pos.principal[sel], group) for a in amounts]
    return (sel, *out)


def write_off(loans: Loans, pos: Positions, as_of: int) -> np.ndarray:
    """Loans more than 180 days past due at `as_of` are written off (positions lose their principal).
    Returns the amounts written off per loan."""
    due, _ = schedule(loans)
    idx = np.arange(len(loans))
    first_unpaid = due[idx, np.clip(loans.paid, 0, MAX_TERM - 1)]
    active = loans.ended < 0
    dpd = np.where(active & (loans.paid < loans.n_inst) & (first_unpaid <= as_of), as_of - first_unpaid, 0)
    hit = dpd > WRITE_OFF_DPD
    amount = np.where(hit, loans.outstanding, 0)
    loans.written_off += amount
    loans.outstanding[hit] = 0
    loans.ended[hit] = as_of
    pos.principal[np.isin(pos.loan, np.flatnonzero(hit))] = 0
    return amount


def snapshot(
    loans: Loans, pos: Positions, period: Period, written_off_now: np.ndarray, *, product: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Month-end loans and investments filings (typed) for every loan live at some time in the period."""
    as_of = period.last_ord
    live = (loans.orig <= as_of) & ((loans.ended < 0) | (loans.ended >= period.first_ord))
    idx = np.flatnonzero(live)
    lo = loans.take(live)
    due, sched = schedule(lo)
    k = np.arange(1, MAX_TERM + 1)
    in_term = k[None, :] <= lo.n_inst[:, None]
    unpaid = (k[None, :] > lo.paid[:, None]) & in_term
    wo_now = written_off_now[idx]
    gone = lo.ended >= 0
    overdue = np.where(gone, 0, (sched * (unpaid & (due <= as_of))).sum(axis=1))
    first_unpaid = due[np.arange(len(lo)), np.clip(lo.paid, 0, MAX_TERM - 1)]
    dpd = np.where(~gone & (lo.paid < lo.n_inst) & (first_unpaid <= as_of), as_of - first_unpaid, 0)
    status = np.where(
        wo_now > 0,
        "written_off",
        np.where(lo.outstanding == 0, "repaid", np.where(dpd > 0, "overdue", "current")),
    )
    maturity = due[np.arange(len(lo)), lo.n_inst - 1]
    loans_df = pl.DataFrame(
        {
            "loan_id": ids("loan", lo.no),
            "as_of_date": dates(np.full(len(lo), as_of)),
            "borrower_party_id": ids("party", lo.borrower),
            "contract_principal": lo.principal,
            "disbursed_amount": lo.principal,
            "origination_date": dates(lo.orig),
            "maturity_date": dates(maturity),
            "apr_contract": lo.apr,
            "apr_comprehensive": lo.apr_comp,
            "outstanding_principal": lo.outstanding,
            "overdue_principal": overdue,
            "days_past_due": dpd,
            "principal_due_in_period": (sched * in_term * ((due >= period.first_ord) & (due <= as_of))).sum(
                axis=1
            ),
            "principal_due_next_30d": np.where(
                gone, 0, (sched * in_term * ((due > as_of) & (due <= as_of + 30))).sum(axis=1)
            ),
            "written_off_in_period": wo_now,
            "written_off_amount": lo.written_off,
            "recovered_in_period": np.zeros(len(lo), np.int64),
            "status": pl.Series(status),
            "credit_reported": np.ones(len(lo), bool),
        }
    )
    psel = np.flatnonzero(np.isin(pos.loan, idx))
    pl_idx = np.searchsorted(idx, pos.loan[psel])
    inv_df = pl.DataFrame(
        {
            "investment_id": ids("inv", pos.no[psel]),
            "as_of_date": dates(np.full(len(psel), as_of)),
            "investor_party_id": ids("party", pos.lender[psel]),
            "product_type": pl.Series([product] * len(psel), dtype=pl.String),
            "loan_id": ids("loan", lo.no[pl_idx]),
            "campaign_id": ids("camp", lo.camp[pl_idx]),
            "principal": pos.principal[psel],
            "start_date": dates(lo.orig[pl_idx]),
            "term_days": maturity[pl_idx] - lo.orig[pl_idx],
        }
    )
    return loans_df, inv_df


def compact(loans: Loans, pos: Positions, before: int) -> tuple[Loans, Positions]:
    """Forget loans that ended before `before` (and their positions); indices are renumbered."""
    keep = (loans.ended < 0) | (loans.ended >= before)
    new_index = np.cumsum(keep) - 1
    pkeep = keep[pos.loan]
    p = pos.take(pkeep)
    p.loan = new_index[p.loan]
    return loans.take(keep), p


def book_repayments(
    lg: Ledger,
    parties: PartyBook,
    loans: Loans,
    pos: Positions,
    day: int,
    base_t: int,
    rng: np.random.Generator,
    bal: np.ndarray,
    *,
    cs: int,
    of: int,
) -> int:
    """Today's installments: the borrower pays in (principal + interest + fee), one repayment leg per lender
    with its principal/interest split, then the platform's fee. Returns the fee income."""
    rep = due_today(loans, day)
    if len(rep.loan) == 0:
        return 0
    t0 = base_t + times_in_day(rng, len(rep.loan), "office", lo=7 * 3600, hi=20 * 3600)
    total = rep.principal + rep.interest + rep.fee
    top = avoid_bands_up(total, False)
    inflow(
        lg,
        parties,
        t=t0,
        party=loans.borrower[rep.loan],
        acct=loans.acct[rep.loan],
        bank_acct=cs,
        amt=top,
        ch=CH["transfer"],
        pur=PUR["top_up"],
    )
    np.add.at(bal, loans.acct[rep.loan], top - total)  # what was paid in beyond the installment stays
    order = np.argsort(rep.loan)
    lsort = rep.loan[order]
    sel, pp, ip = split_over_positions(pos, lsort, [rep.principal[order], rep.interest[order]])
    g = np.searchsorted(lsort, pos.loan[sel])
    ev = lg.new_events(len(lsort))[g]
    amt = pp + ip
    m = amt > 0
    li = pos.loan[sel][m]
    lg.add(
        ev=ev[m],
        cust=True,
        t=t0[order][g][m] + 60,
        dr=loans.acct[li],
        cr=pos.acct[sel][m],
        payer=loans.borrower[li],
        payee=pos.lender[sel][m],
        amt=amt[m],
        ch=CH["transfer"],
        pur=PUR["repayment"],
        pp=pp[m],
        ip=ip[m],
        fp=0,
        loan=loans.no[li],
    )
    pos.principal[sel] -= pp
    np.add.at(bal, pos.acct[sel], amt)
    paid_fee = rep.fee > 0
    fee(
        lg,
        t=t0[paid_fee] + 120,
        payer=loans.borrower[rep.loan[paid_fee]],
        acct=loans.acct[rep.loan[paid_fee]],
        bank_view=cs,
        own=of,
        amt=rep.fee[paid_fee],
    )
    return int(rep.fee.sum())
