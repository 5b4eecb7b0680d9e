"""Turn a public dataset into complete submission packages of the spec (filings.md), one per period, for
the normal intake: every required filing type (zero rows where the source has nothing), a generated
profile with a valid USCC, parties, minimal accounts with their balance rows, and the source's records.

The mapping of each dataset is a YAML file beside this module (`<dataset>.yml`). kind `transactions`
(PaySim, AMLSim): each source row is one event moving a customer wallet of a PAY institution — money in
from outside, out to outside, or between two wallets — with its bank leg on the central reserve. Wallet
openings are the smallest that keep every running balance non-negative (or the source's own opening
balance when it is larger), so every ledger identity holds by construction. Txn ids carry the source row
number (`<enterprise>-T<row>C`), which is how the labels are joined back (pipelines.mappings.labels).
kind `complaints` (CFPB) is below too; kind `loans` (LendingClub) is pipelines.mappings.loans. What the kinds
share (configs, profile, balance rows, writing a package) is pipelines.mappings.common; `map_dataset` runs
any of them.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import polars as pl

from pipelines.calendar import period_bounds
from pipelines.filing_package.identity import id_hash
from pipelines.mappings.common import (
    CAPITAL,
    OWN,
    REGION,
    MapResult,
    daily_balances,
    load_config,
    month_starts,
    period_days,
    period_label,
    profile_table,
    scalar,
    write_package,
)
from pipelines.mappings.loans import loan_packages

OPENED_BEFORE = 30  # days: wallets open before the first period, so their first opening may be > 0


# ---- source rows -> movements ------------------------------------------------------------------------


def movements(cfg: dict, data_root: Path, limit: int | None = None) -> pl.DataFrame:
    """src_row, ts (Shanghai wall clock), origin, counterparty, flow, channel, purpose, is_self, amount (cents)."""
    raw = pl.read_csv(data_root / cfg["source"], n_rows=limit, infer_schema_length=10_000)
    raw = raw.with_row_index("src_row", offset=1)
    unit = {"hours": 3600, "days": 86400}[cfg["time"]["unit"]]
    start = datetime.fromisoformat(cfg["start"])
    prefix = cfg.get("key_prefix", "")
    if "types" in cfg:
        types = pl.DataFrame(
            [{"type": k, **{"self": False, **v}} for k, v in cfg["types"].items()],
        )
        raw = raw.join(types, left_on=cfg["type_column"], right_on="type", how="inner")
    else:
        raw = raw.with_columns([pl.lit(v).alias(k) for k, v in {"self": False, **cfg["flow"]}.items()])
    return (
        raw.select(
            "src_row",
            ts=pl.lit(start) + pl.duration(seconds=pl.col(cfg["time"]["column"]).cast(pl.Int64) * unit),
            origin=pl.lit(prefix) + pl.col(cfg["origin"]).cast(pl.String),
            counterparty=pl.lit(prefix) + pl.col(cfg["counterparty"]).cast(pl.String),
            flow=pl.col("flow"),
            channel=pl.col("channel"),
            purpose=pl.col("purpose"),
            is_self=pl.col("self"),
            amount=(pl.col(cfg["amount"]).cast(pl.Float64) * 100).round(0).cast(pl.Int64),
        )
        .filter(pl.col("amount") > 0)
        .sort("ts", "src_row")
    )


def postings(mv: pl.DataFrame) -> pl.DataFrame:
    """Signed wallet postings (owner key, ts, src_row, delta) of the movements."""
    out = mv.filter(pl.col("flow") != "in").select("ts", "src_row", key="origin", delta=-pl.col("amount"))
    into = mv.filter(pl.col("flow") == "in").select("ts", "src_row", key="origin", delta="amount")
    internal = mv.filter(pl.col("flow") == "internal").select(
        "ts", "src_row", key="counterparty", delta="amount"
    )
    return pl.concat([out, into, internal]).sort("ts", "src_row")


def openings(mv: pl.DataFrame, cfg: dict, data_root: Path) -> pl.DataFrame:
    """key, opening (cents): the smallest opening keeping the wallet's running balance >= 0, or the
    source's opening balance when larger."""
    run = postings(mv).with_columns(running=pl.col("delta").cum_sum().over("key"))
    need = run.group_by("key").agg(opening=(-pl.col("running").min()).clip(lower_bound=0))
    if "opening" in cfg:
        o = cfg["opening"]
        src = pl.read_csv(data_root / o["file"]).select(
            key=pl.lit(cfg.get("key_prefix", "")) + pl.col(o["key"]).cast(pl.String),
            source_opening=(pl.col(o["column"]).cast(pl.Float64) * 100).round(0).cast(pl.Int64),
        )
        need = need.join(src, on="key", how="left").select(
            "key", opening=pl.max_horizontal("opening", pl.col("source_opening").fill_null(0))
        )
    return need


# ---- movements -> filings ------------------------------------------------------------------------------


def _legs(mv: pl.DataFrame, eid: str) -> pl.DataFrame:
    wallet = pl.lit("W") + pl.col("origin")
    cp_wallet = pl.lit("W") + pl.col("counterparty")
    external = pl.when(pl.col("is_self")).then(pl.col("origin")).otherwise(pl.col("counterparty"))
    outside = pl.col("flow") != "internal"
    base = mv.with_columns(
        event_id=pl.lit(f"{eid}-E") + pl.col("src_row").cast(pl.String).str.zfill(9),
        booked_at=pl.col("ts"),
        value_date=pl.col("ts").dt.date(),
        debit_account_id=pl.when(pl.col("flow") != "in").then(wallet),
        credit_account_id=pl.when(pl.col("flow") == "in")
        .then(wallet)
        .when(pl.col("flow") == "internal")
        .then(cp_wallet),
        payer_party_id=pl.when(pl.col("flow") == "in").then(external).otherwise(pl.col("origin")),
        payee_party_id=pl.when(pl.col("flow") == "out")
        .then(external)
        .when(pl.col("flow") == "in")
        .then(pl.col("origin"))
        .otherwise(pl.col("counterparty")),
        amount_cny=pl.col("amount"),
        currency=pl.lit("CNY"),
        is_cross_border=pl.lit(False),
        cp_country=pl.when(outside).then(pl.lit("CN")),
        cp_region=pl.when(outside).then(pl.lit(REGION)),
        status=pl.lit("ok"),
    )
    customer = base.with_columns(
        leg=pl.lit("customer"),
        txn_id=pl.lit(f"{eid}-T") + pl.col("src_row").cast(pl.String).str.zfill(9) + "C",
    )
    bank = base.filter(outside).with_columns(
        leg=pl.lit("bank"),
        txn_id=pl.lit(f"{eid}-T") + pl.col("src_row").cast(pl.String).str.zfill(9) + "B",
        debit_account_id=pl.when(pl.col("flow") == "out").then(pl.lit("RC1")),
        credit_account_id=pl.when(pl.col("flow") == "in").then(pl.lit("RC1")),
    )
    return pl.concat([customer, bank]).sort("booked_at", "txn_id").with_columns(enterprise_id=pl.lit(eid))


def _parties(mv: pl.DataFrame, cfg: dict, eid: str, onboard: date) -> pl.DataFrame:
    keys = pl.concat(
        [mv.select(key="origin"), mv.filter(~pl.col("is_self")).select(key="counterparty")]
    ).unique(maintain_order=True)
    legal = pl.col("key").str.starts_with(cfg["legal_prefix"]) if cfg.get("legal_prefix") else pl.lit(False)
    return keys.select(
        enterprise_id=pl.lit(eid),
        party_id="key",
        party_type=pl.when(legal).then(pl.lit("legal")).otherwise(pl.lit("natural")),
        id_hash=pl.col("key").map_elements(
            lambda k: id_hash("CN_ID", f"{cfg['dataset']}:{k}"), return_dtype=pl.String
        ),
        sector_code=pl.when(legal).then(pl.lit("F")),
        region_code=pl.lit(REGION),
        country=pl.lit("CN"),
        is_related_party=pl.lit(False),
        kyc_class=pl.when(legal).then(None).otherwise(pl.lit("III")),
        dishonest_flag=pl.lit(False),
        onboard_date=pl.lit(onboard),
    )


def transaction_packages(cfg: dict, data_root: Path, landing: Path, limit: int | None = None) -> MapResult:
    eid, ent_type = cfg["enterprise_id"], cfg["ent_type"]
    mv = movements(cfg, data_root, limit).with_columns(period=pl.col("ts").dt.strftime("%Y-%m"))
    start_day = datetime.fromisoformat(cfg["start"]).date()
    balance = {r["key"]: r["opening"] for r in openings(mv, cfg, data_root).iter_rows(named=True)}
    opened = start_day - timedelta(days=OPENED_BEFORE)  # customers' accounts predate the data
    parties = _parties(mv, cfg, eid, opened)
    wallets = (
        pl.concat(
            [mv.select(key="origin"), mv.filter(pl.col("flow") == "internal").select(key="counterparty")]
        )
        .unique(maintain_order=True)["key"]
        .to_list()
    )
    posts = postings(mv).with_columns(period=pl.col("ts").dt.strftime("%Y-%m"), day=pl.col("ts").dt.date())
    periods = sorted(mv["period"].unique().to_list())
    first, _ = period_bounds(periods[0])
    written = []
    for label in [period_label(d) for d in month_starts(first, period_bounds(periods[-1])[0])]:
        _, p_last = period_bounds(label)
        days = period_days(label)
        pm = mv.filter(pl.col("period") == label)
        pp = posts.filter(pl.col("period") == label)
        flows = pp.group_by("key").agg(
            credits=pl.col("delta").clip(lower_bound=0).sum(),
            debits=(-pl.col("delta")).clip(lower_bound=0).sum(),
        )
        opening = pl.DataFrame({"key": wallets, "opening": [balance.get(k, 0) for k in wallets]})
        cust = (
            opening.join(flows, on="key", how="left")
            .fill_null(0)
            .with_columns(closing=pl.col("opening") + pl.col("credits") - pl.col("debits"))
        )
        balance = dict(zip(cust["key"].to_list(), cust["closing"].to_list(), strict=True))
        daily = (
            pm.filter(pl.col("flow") != "internal")
            .group_by(day=pl.col("ts").dt.date())
            .agg(
                credits=pl.col("amount").filter(pl.col("flow") == "in").sum(),
                debits=pl.col("amount").filter(pl.col("flow") == "out").sum(),
            )
        )
        rc = daily_balances("RC1", days, int(cust["opening"].sum()), daily)
        balances = pl.concat(
            [
                rc,
                daily_balances("OF1", days, CAPITAL),
                cust.select(
                    account_id=pl.lit("W") + pl.col("key"),
                    biz_date=pl.lit(p_last),
                    opening="opening",
                    credits="credits",
                    debits="debits",
                    closing="closing",
                    bank_confirmed_closing=pl.lit(None, dtype=pl.Int64),
                ),
            ],
            how="vertical_relaxed",
        ).with_columns(enterprise_id=pl.lit(eid))
        accounts = pl.concat(
            [
                pl.DataFrame(
                    {
                        "account_id": list(OWN),
                        "account_class": [c for c, _ in OWN.values()],
                        "bank_code": [b for _, b in OWN.values()],
                    }
                ).with_columns(open_date=pl.lit(start_day - timedelta(days=365))),
                pl.DataFrame({"key": wallets}).select(
                    account_id=pl.lit("W") + pl.col("key"),
                    owner_party_id="key",
                    account_class=pl.lit("CUSTOMER_WALLET"),
                    open_date=pl.lit(opened),
                ),
            ],
            how="diagonal",
        ).with_columns(enterprise_id=pl.lit(eid), currency=pl.lit("CNY"))
        total = rc["closing"]
        liquidity = pl.DataFrame({"as_of_date": days}).with_columns(
            enterprise_id=pl.lit(eid),
            hqla=total + CAPITAL // 2,
            outflows_30d=pl.lit(0),
            inflows_30d=pl.lit(0),
            customer_bal_stable=(total * 7) // 10,
            customer_bal_less_stable=total - (total * 7) // 10,
        )
        tables = {
            "enterprise_profile": profile_table(cfg),
            "parties": parties,
            "accounts": accounts,
            "account_balances": balances,
            "transactions": _legs(pm, eid),
            "liquidity": liquidity,
        }
        sid = write_package(landing, eid, ent_type, label, tables)
        written.append(sid)
    return MapResult(cfg["dataset"], eid, written, mv.height)


def _own_books(eid: str, label: str, opened: date) -> dict[str, pl.DataFrame]:
    """The minimal books of an enterprise with no customer money in the data: its own accounts with daily
    rows (a zero central reserve, own funds at the paid-in capital) and a zero liquidity return."""
    days = period_days(label)
    balances = pl.concat(
        [daily_balances("RC1", days, 0), daily_balances("OF1", days, CAPITAL)], how="vertical_relaxed"
    ).with_columns(enterprise_id=pl.lit(eid))
    accounts = pl.DataFrame(
        {
            "account_id": list(OWN),
            "account_class": [c for c, _ in OWN.values()],
            "bank_code": [b for _, b in OWN.values()],
        }
    ).with_columns(enterprise_id=pl.lit(eid), currency=pl.lit("CNY"), open_date=pl.lit(opened))
    liquidity = pl.DataFrame({"as_of_date": days}).with_columns(
        enterprise_id=pl.lit(eid),
        hqla=pl.lit(CAPITAL // 2, dtype=pl.Int64),
        outflows_30d=pl.lit(0, dtype=pl.Int64),
        inflows_30d=pl.lit(0, dtype=pl.Int64),
        customer_bal_stable=pl.lit(0, dtype=pl.Int64),
        customer_bal_less_stable=pl.lit(0, dtype=pl.Int64),
    )
    return {"accounts": accounts, "account_balances": balances, "liquidity": liquidity}


def complaints(cfg: dict, data_root: Path, limit: int | None = None) -> tuple[pl.DataFrame, dict[str, str]]:
    """One row per source complaint with its final state (cfpb.yml): enterprise_id, received_at, closed_at
    (null while open), resolution and the filing's other columns; and enterprise id -> company name."""
    raw = pl.read_csv(data_root / cfg["source"], n_rows=limit, infer_schema_length=0)
    companies = sorted(raw[cfg["company"]].unique().to_list())
    ent = pl.DataFrame(
        {
            cfg["company"]: companies,
            "enterprise_id": [
                f"{cfg['ent_type']}{cfg['enterprise_base'] + k:04d}" for k in range(len(companies))
            ],
        }
    )
    res, ch, closed = cfg["resolution"], cfg["channel"], cfg["closed"]
    timely = closed["timely"]
    resolution = pl.col(res["column"]).replace_strict(res["values"], default=None)
    day = lambda spec: pl.col(spec["column"]).str.to_date(spec["format"])  # noqa: E731
    answered = resolution.is_not_null() & (resolution != "in_progress")
    known = pl.col(timely["column"]).is_in([timely["true"], timely["false"]]).fill_null(False)
    unknown = raw.filter(answered & ~known)
    if unknown.height:
        ids = unknown[cfg["id"]].head(5).to_list()
        flag = f"{timely['column']!r} neither {timely['true']!r} nor {timely['false']!r}"
        raise ValueError(f"{cfg['dataset']}: {flag} on a closed complaint: {ids}")
    # closed: the earliest day consistent with the timeliness flag (cfpb.yml): the base day when timely,
    # the day after the deadline when not
    after = pl.when(pl.col(timely["column"]) == timely["true"]).then(0).otherwise(closed["deadline_days"] + 1)
    rows = (
        raw.join(ent, on=cfg["company"])
        .with_columns(resolution=resolution)
        .filter(pl.col("resolution").is_not_null())
        .select(
            "enterprise_id",
            "resolution",
            received_at=day(cfg["received"]).dt.combine(time(9)),
            complaint_id=pl.col(cfg["id"]),
            channel=pl.col(ch["column"]).replace_strict(ch["values"], default=ch["default"]),
            product=pl.col(cfg["product"]).str.slice(0, 200).str.strip_chars(),
            issue=pl.col(cfg["issue"]).str.slice(0, 200).str.strip_chars(),
            closed_at=pl.when(pl.col("resolution") != "in_progress").then(
                (day(closed) + pl.duration(days=after)).dt.combine(time(18))
            ),
            extension_count=pl.lit(0),
            consumer_disputed=pl.col(cfg["disputed"]["column"]) == cfg["disputed"]["true"],
            escalated=pl.lit(False),
        )
    )
    return rows, dict(zip(ent["enterprise_id"], ent[cfg["company"]], strict=True))


def complaint_rows_by_period(rows: pl.DataFrame) -> pl.DataFrame:
    """Each complaint in the package of every month from the one it was received in through the one it was
    closed in (filings.md: every complaint received in the period or still open at its start); one still
    open through the last month of the data (the latest received or closed date). Before its closing month
    it is filed open (closed_at null, in_progress). Adds `period` (YYYY-MM)."""
    month = lambda c: pl.col(c).dt.date().dt.truncate("1mo")  # noqa: E731
    last = rows.select(pl.max_horizontal(month("received_at").max(), month("closed_at").max())).item()
    return (
        rows.with_columns(
            month=pl.date_ranges(month("received_at"), month("closed_at").fill_null(last), "1mo"),
        )
        .explode("month")
        .with_columns(closed_here=pl.col("month") == month("closed_at"))
        .with_columns(
            period=pl.col("month").dt.strftime("%Y-%m"),
            closed_at=pl.when(pl.col("closed_here")).then(pl.col("closed_at")),
            resolution=pl.when(pl.col("closed_here") | pl.col("closed_at").is_null())
            .then(pl.col("resolution"))
            .otherwise(pl.lit("in_progress")),
        )
        .drop("month", "closed_here")
        .sort("enterprise_id", "period", "received_at", "complaint_id")
    )


def complaint_packages(cfg: dict, data_root: Path, landing: Path, limit: int | None = None) -> MapResult:
    """kind `complaints` (CFPB): one enterprise per company, one package per company and month with a
    complaint received in it or open at its start."""
    rows, names = complaints(cfg, data_root, limit)
    profile_cfg = {"dataset": cfg["dataset"], "ent_type": cfg["ent_type"]}
    first_day = scalar(rows["received_at"].min(), datetime).date()
    written = []
    for (eid, label), filed in complaint_rows_by_period(rows).group_by(
        "enterprise_id", "period", maintain_order=True
    ):
        tables = {
            "enterprise_profile": profile_table({**profile_cfg, "enterprise_id": eid, "name": names[eid]}),
            "complaints": filed.drop("period"),
            **_own_books(eid, label, first_day - timedelta(days=365)),
        }
        written.append(write_package(landing, eid, cfg["ent_type"], label, tables))
    return MapResult(cfg["dataset"], f"{len(names)} enterprises", written, rows.height)


def map_dataset(dataset: str, data_root: Path, landing: Path, limit: int | None = None) -> MapResult:
    cfg = load_config(dataset)
    if cfg["kind"] == "transactions":
        return transaction_packages(cfg, data_root, landing, limit)
    if cfg["kind"] == "complaints":
        return complaint_packages(cfg, data_root, landing, limit)
    if cfg["kind"] == "loans":
        return loan_packages(cfg, data_root, landing, limit)
    raise ValueError(f"{dataset}: mapping kind {cfg['kind']!r} is not implemented")
