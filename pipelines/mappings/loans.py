"""kind `loans` (LendingClub): loan-level rows -> one P2P package per month, from the first issue month to
the configured snapshot period. Each loan is funded in its issue month (the spec's P2P events: lender
deposit, loan funding, borrower withdrawal), repaid in equal monthly parts of its cumulative paid principal
and interest after issue (borrower deposit, repayment to the lender), and its month-end snapshot rolls
forward (X-05); the customer sub-accounts sit under one CUSTODY_SUMMARY account whose daily rows follow
the legs (X-01, X-04). loan_status is read only at the snapshot month (lendingclub.yml)."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import polars as pl

from pipelines.calendar import period_bounds
from pipelines.filing_package.identity import id_hash
from pipelines.mappings.common import (
    BALANCE_COLUMNS,
    CAPITAL,
    OWN,
    REGION,
    MapResult,
    daily_balances,
    month_starts,
    period_days,
    profile_table,
    scalar,
    write_package,
)

OPEN = ("current", "overdue")
CUSTODY, OWN_FUNDS = "RC1", "OF1"


def status_table(cfg: dict) -> pl.DataFrame:
    """loan_status -> status, days_past_due (from the YAML: the one place the mapping lives)."""
    return pl.DataFrame(
        [{"loan_status": k, **v} for k, v in cfg["status"]["values"].items()],
        schema={"loan_status": pl.String, "status": pl.String, "days_past_due": pl.Int64},
    )


def read_loans(cfg: dict, data_root: Path, limit: int | None = None) -> pl.DataFrame:
    """The raw rows of known status: src_row, status, days_past_due (snapshot), origination_date, term,
    apr (millionths), principal, balance, paid_principal, paid_interest (cents)."""
    raw = pl.read_csv(data_root / cfg["source"], n_rows=limit, infer_schema_length=10_000)
    raw = raw.with_row_index("src_row", offset=1).with_columns(
        pl.col(cfg["status"]["column"]).alias("loan_status")
    )
    cents = lambda c: (pl.col(c).cast(pl.Float64) * 100).round(0).cast(pl.Int64)  # noqa: E731
    return raw.join(status_table(cfg), on="loan_status", how="inner").select(
        "src_row",
        "status",
        "days_past_due",
        origination_date=pl.col(cfg["issue"]["column"]).str.to_date(cfg["issue"]["format"]),
        term=pl.col("term").cast(pl.Int64),
        apr=(pl.col("interest_rate").cast(pl.Float64) * 10_000).round(0).cast(pl.Int64),
        principal=cents("loan_amount"),
        balance=cents("balance"),
        paid_principal=cents("paid_principal"),
        paid_interest=cents("paid_interest"),
    )


def snapshot_book(src: pl.DataFrame, snapshot: str) -> pl.DataFrame:
    """Per loan: the snapshot's outstanding and written-off principal, the principal repaid by then
    (contract - outstanding - written off, so X-05 holds to the cent) and the number of repayment months
    (issue month + 1 ... snapshot month)."""
    s_first, _ = period_bounds(snapshot)
    is_open = pl.col("status").is_in(OPEN)
    book = src.with_columns(
        row=pl.col("src_row").cast(pl.String).str.zfill(6),
        outstanding=pl.when(is_open).then("balance").otherwise(0),
        written_off=pl.when(pl.col("status") == "written_off")
        .then((pl.col("principal") - pl.col("paid_principal")).clip(lower_bound=0))
        .otherwise(0),
        months=(pl.lit(s_first).dt.year() - pl.col("origination_date").dt.year()) * 12
        + pl.lit(s_first).dt.month().cast(pl.Int64)
        - pl.col("origination_date").dt.month().cast(pl.Int64),
    ).with_columns(
        repaid=pl.col("principal") - pl.col("outstanding") - pl.col("written_off"),
        interest=pl.col("paid_interest").clip(lower_bound=0),
    )
    stuck = book.filter((pl.col("months") < 0) | ((pl.col("months") == 0) & (pl.col("repaid") > 0)))
    if stuck.height:
        raise ValueError(f"{stuck.height} loans repaid before they could be (issued in or after {snapshot})")
    return book


def schedule(book: pl.DataFrame) -> pl.DataFrame:
    """Repayment k = 1..months on the issue day k months later: an equal share (integer cents) of the
    repaid principal and of the paid interest, the remainder cents in the last part."""
    rows = book.filter(pl.col("months") > 0).with_columns(k=pl.int_ranges(1, pl.col("months") + 1))
    rows = rows.explode("k")
    last = pl.col("k") == pl.col("months")

    def part(c: str) -> pl.Expr:
        return pl.col(c) // pl.col("months") + pl.when(last).then(pl.col(c) % pl.col("months")).otherwise(0)

    return rows.select(
        "row",
        "k",
        day=pl.col("origination_date").dt.offset_by(pl.col("k").cast(pl.String) + "mo"),
        principal_part=part("repaid"),
        interest_part=part("interest"),
    ).filter(pl.col("principal_part") + pl.col("interest_part") > 0)


def events(book: pl.DataFrame, sched: pl.DataFrame, eid: str) -> pl.DataFrame:
    """One row per event (filings.md's P2P event -> legs table): its customer leg and, when money crosses
    the platform's boundary, the custody account its bank leg books (bank_debit / bank_credit)."""
    lender, borrower = pl.lit("SI") + pl.col("row"), pl.lit("SB") + pl.col("row")
    inv, bor = pl.lit("I") + pl.col("row"), pl.lit("B") + pl.col("row")
    loan = pl.lit(f"{eid}-L") + pl.col("row")
    none = pl.lit(None, dtype=pl.String)

    def ev(frame: pl.DataFrame, tag: pl.Expr, step: int, purpose: str, **cols: pl.Expr | str) -> pl.DataFrame:
        return frame.select(
            event_id=pl.lit(f"{eid}-E") + pl.col("row") + tag,
            value_date="day",
            booked_at=pl.col("day").dt.combine(time(10, 0, step)),
            purpose=pl.lit(purpose),
            **{
                "debit_account_id": none,
                "credit_account_id": none,
                "bank_debit": none,
                "bank_credit": none,
                "loan_id": none,
                "investment_id": none,
                "principal_part": pl.lit(None, dtype=pl.Int64),
                "interest_part": pl.lit(None, dtype=pl.Int64),
                **cols,
            },
        )

    issue = book.with_columns(day="origination_date")
    rep = sched.with_columns(amount=pl.col("principal_part") + pl.col("interest_part"))
    k = pl.lit("R") + pl.col("k").cast(pl.String).str.zfill(3)
    parts = [
        # lender deposit: outside -> lender sub; bank leg outside -> custody
        ev(issue, pl.lit("D1"), 0, "top_up", credit_account_id=lender, bank_credit=pl.lit(CUSTODY),
           payer_party_id=inv, payee_party_id=inv, amount="principal"),
        # loan funding: lender sub -> borrower sub, customer leg only
        ev(issue, pl.lit("D2"), 1, "loan_disbursement", debit_account_id=lender, credit_account_id=borrower,
           loan_id=loan, investment_id=pl.lit(f"{eid}-I") + pl.col("row"),
           payer_party_id=inv, payee_party_id=bor, amount="principal"),
        # borrower withdraws the loan: borrower sub -> outside; bank leg custody -> outside
        ev(issue, pl.lit("D3"), 2, "withdrawal", debit_account_id=borrower, bank_debit=pl.lit(CUSTODY),
           payer_party_id=bor, payee_party_id=bor, amount="principal"),
        # borrower deposits the instalment: outside -> borrower sub; bank leg outside -> custody
        ev(rep, k + "T", 0, "top_up", credit_account_id=borrower, bank_credit=pl.lit(CUSTODY),
           payer_party_id=bor, payee_party_id=bor, amount="amount"),
        # repayment: borrower sub -> lender sub, customer leg only
        ev(rep, k + "P", 1, "repayment", debit_account_id=borrower, credit_account_id=lender, loan_id=loan,
           principal_part="principal_part", interest_part="interest_part",
           payer_party_id=bor, payee_party_id=inv, amount="amount"),
    ]  # fmt: skip
    return pl.concat(parts, how="diagonal_relaxed").with_columns(
        channel=pl.when(pl.col("purpose").is_in(["top_up", "withdrawal"]))
        .then(pl.lit("transfer"))
        .otherwise(pl.lit("online_balance"))
    )


def legs(ev: pl.DataFrame, eid: str) -> pl.DataFrame:
    """Customer legs of every event, bank legs of those crossing the boundary (txn id = event id + C/B)."""
    outside = pl.col("debit_account_id").is_null() | pl.col("credit_account_id").is_null()
    customer = ev.with_columns(leg=pl.lit("customer"), txn_id=pl.col("event_id") + "C")
    bank = ev.filter(pl.col("bank_debit").is_not_null() | pl.col("bank_credit").is_not_null()).with_columns(
        leg=pl.lit("bank"),
        txn_id=pl.col("event_id") + "B",
        debit_account_id="bank_debit",
        credit_account_id="bank_credit",
        principal_part=pl.lit(None, dtype=pl.Int64),
        interest_part=pl.lit(None, dtype=pl.Int64),
    )
    repayment = (pl.col("leg") == "customer") & (pl.col("purpose") == "repayment")
    return (
        pl.concat([customer, bank])
        .with_columns(
            enterprise_id=pl.lit(eid),
            txn_id=pl.col("txn_id").str.replace("-E", "-T"),
            amount_cny="amount",
            currency=pl.lit("CNY"),
            fee_part=pl.when(repayment).then(pl.lit(0, dtype=pl.Int64)),
            is_cross_border=pl.lit(False),
            cp_country=pl.when(outside).then(pl.lit("CN")),
            cp_region=pl.when(outside).then(pl.lit(REGION)),
            status=pl.lit("ok"),
        )
        .drop("bank_debit", "bank_credit")
        .sort("booked_at", "txn_id")
    )


def postings(lg: pl.DataFrame) -> pl.DataFrame:
    """account_id, day, credit, debit of every leg (customer legs for subs, bank legs for custody)."""
    zero = pl.lit(0, dtype=pl.Int64)
    return pl.concat(
        [
            lg.filter(pl.col("credit_account_id").is_not_null()).select(
                account_id="credit_account_id", day="value_date", credit="amount_cny", debit=zero
            ),
            lg.filter(pl.col("debit_account_id").is_not_null()).select(
                account_id="debit_account_id", day="value_date", credit=zero, debit="amount_cny"
            ),
        ]
    )


def month_loans(book: pl.DataFrame, sched: pl.DataFrame, eid: str, label: str, snapshot: str) -> pl.DataFrame:
    """The loans snapshot of month `label`: before the snapshot month every loan is current (outstanding =
    contract - principal repaid so far, nothing overdue or written off); the snapshot month carries the
    extract's status."""
    _, p_last = period_bounds(label)
    repaid = sched.filter(pl.col("day") <= p_last).group_by("row").agg(so_far=pl.col("principal_part").sum())
    rows = book.filter(pl.col("origination_date") <= p_last).join(repaid, on="row", how="left")
    zero = pl.lit(0, dtype=pl.Int64)
    status: pl.Expr | str  # a column name (the extract's, at the snapshot month) or an expression
    dpd: pl.Expr | str
    outstanding: pl.Expr | str
    written_off: pl.Expr | str
    if label == snapshot:
        status, dpd, outstanding, written_off = "status", "days_past_due", "outstanding", "written_off"
        overdue = pl.when(pl.col("status") == "overdue").then("outstanding").otherwise(zero)
    else:
        status, dpd, written_off, overdue = pl.lit("current"), zero, zero, zero
        outstanding = pl.col("principal") - pl.col("so_far").fill_null(0)
    return rows.select(
        enterprise_id=pl.lit(eid),
        loan_id=pl.lit(f"{eid}-L") + pl.col("row"),
        as_of_date=pl.lit(p_last),
        borrower_party_id=pl.lit("B") + pl.col("row"),
        contract_principal="principal",
        disbursed_amount="principal",
        origination_date="origination_date",
        maturity_date=pl.col("origination_date").dt.offset_by(pl.col("term").cast(pl.String) + "mo"),
        apr_contract="apr",
        apr_comprehensive="apr",
        outstanding_principal=outstanding,
        overdue_principal=overdue,
        days_past_due=dpd,
        principal_due_in_period=zero,
        principal_due_next_30d=zero,
        written_off_in_period=written_off,
        written_off_amount=written_off,
        recovered_in_period=zero,
        status=status,
        credit_reported=pl.lit(True),
    )


def month_books(
    book: pl.DataFrame, posts: pl.DataFrame, eid: str, label: str, cfg: dict, opened: date
) -> dict[str, pl.DataFrame]:
    """accounts and account_balances of month `label`: the custody summary (daily rows following its bank
    legs), own funds (the paid-in capital) and the lender and borrower sub-accounts opened by its end (one
    period row each, the opening carried from the earlier months)."""
    p_first, p_last = period_bounds(label)
    live = book.filter(pl.col("origination_date") <= p_last)
    subs = pl.concat(
        [
            live.select(
                account_id=pl.lit(prefix) + pl.col("row"),
                owner_party_id=pl.lit(owner) + pl.col("row"),
                open_date="origination_date",
            )
            for prefix, owner in (("SI", "I"), ("SB", "B"))
        ]
    )
    own = pl.DataFrame(
        {"account_id": [CUSTODY, OWN_FUNDS], "account_class": ["CUSTODY_SUMMARY", OWN[OWN_FUNDS][0]]}
    ).with_columns(
        bank_code=pl.when(pl.col("account_id") == CUSTODY)
        .then(pl.lit(cfg["custodian_bank"]))
        .otherwise(pl.lit(OWN[OWN_FUNDS][1])),
        open_date=pl.lit(opened),
    )
    accounts = pl.concat(
        [own, subs.with_columns(account_class=pl.lit("CUSTOMER_SUB"), parent_account_id=pl.lit(CUSTODY))],
        how="diagonal",
    ).with_columns(enterprise_id=pl.lit(eid), currency=pl.lit("CNY"))
    span = pl.col("day").is_between(p_first, p_last)
    sub_rows = (
        subs.join(posts.filter(pl.col("day") <= p_last), on="account_id", how="left")
        .group_by("account_id", maintain_order=True)
        .agg(
            opening=(pl.col("credit") - pl.col("debit")).filter(pl.col("day") < p_first).sum(),
            credits=pl.col("credit").filter(span).sum(),
            debits=pl.col("debit").filter(span).sum(),
        )
        .with_columns(
            biz_date=pl.lit(p_last),
            closing=pl.col("opening") + pl.col("credits") - pl.col("debits"),
            bank_confirmed_closing=pl.lit(None, dtype=pl.Int64),
        )
    )
    rc = posts.filter(pl.col("account_id") == CUSTODY)
    before = rc.filter(pl.col("day") < p_first)
    flows = rc.filter(span).group_by("day").agg(credits=pl.col("credit").sum(), debits=pl.col("debit").sum())
    days = period_days(label)
    balances = pl.concat(
        [
            daily_balances(CUSTODY, days, int((before["credit"] - before["debit"]).sum()), flows),
            daily_balances(OWN_FUNDS, days, CAPITAL),
            sub_rows.select(BALANCE_COLUMNS),
        ],
        how="vertical_relaxed",
    ).with_columns(enterprise_id=pl.lit(eid))
    return {"accounts": accounts, "account_balances": balances}


def loan_packages(cfg: dict, data_root: Path, landing: Path, limit: int | None = None) -> MapResult:
    eid, snapshot = cfg["enterprise_id"], cfg["period"]
    book = snapshot_book(read_loans(cfg, data_root, limit), snapshot)
    sched = schedule(book)
    lg = legs(events(book, sched, eid), eid)
    posts = postings(lg)
    first_day = scalar(book["origination_date"].min(), date)
    opened = first_day.replace(year=first_day.year - 1)  # the platform's own accounts predate the data
    people = pl.concat(
        [book.select("origination_date", key=pl.lit(p) + pl.col("row")) for p in ("B", "I")]
    ).with_columns(
        enterprise_id=pl.lit(eid),
        party_type=pl.lit("natural"),
        id_hash=pl.col("key").map_elements(
            lambda k: id_hash("CN_ID", f"lendingclub:{k}"), return_dtype=pl.String
        ),
        sector_code=pl.lit(None, dtype=pl.String),
        region_code=pl.lit(REGION),
        country=pl.lit("CN"),
        is_related_party=pl.lit(False),
        kyc_class=pl.lit("III"),
        dishonest_flag=pl.lit(False),
    )
    profile = profile_table(cfg).with_columns(custodian_bank_code=pl.lit(cfg["custodian_bank"]))
    written = []
    for month in month_starts(first_day.replace(day=1), period_bounds(snapshot)[0]):
        label = f"{month:%Y-%m}"
        p_first, p_last = period_bounds(label)
        loans = month_loans(book, sched, eid, label, snapshot)
        investments = loans.filter(
            pl.col("status").is_in(OPEN) & (pl.col("outstanding_principal") > 0)
        ).select(
            "enterprise_id",
            "as_of_date",
            "loan_id",
            investment_id=pl.col("loan_id").str.replace("-L", "-I"),
            investor_party_id=pl.lit("I") + pl.col("loan_id").str.slice(len(eid) + 2),
            product_type=pl.lit("p2p_loan"),
            principal="outstanding_principal",
            start_date="origination_date",
            term_days=(pl.col("maturity_date") - pl.col("origination_date")).dt.total_days(),
        )
        parties = people.filter(pl.col("origination_date") <= p_last).select(
            "enterprise_id",
            party_id="key",
            **{c: c for c in ("party_type", "id_hash", "sector_code", "region_code", "country")},
            **{c: c for c in ("is_related_party", "kyc_class", "dishonest_flag")},
            onboard_date="origination_date",
        )
        tables = {
            "enterprise_profile": profile,
            "parties": parties,
            "loans": loans,
            "investments": investments,
            "transactions": lg.filter(pl.col("value_date").is_between(p_first, p_last)),
            **month_books(book, posts, eid, label, cfg, opened),
        }
        written.append(write_package(landing, eid, cfg["ent_type"], label, tables))
    return MapResult(cfg["dataset"], eid, written, book.height)
