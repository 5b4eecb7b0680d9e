"""The auditor's trace of one indicator value (enterprise × period × indicator × metric, and the day or the
dimension value of the row) back to the filed rows it was computed from, their submission version and the
archived bytes.

    t = trace(con, "PAY0001", "2026-10", "RES-001", "coverage_ratio", as_of_date="2026-10-07")
    t.parts        # the rows behind the value, each part a set of staging rows of one filing type
    t.versions     # the submission versions they come from, archive paths, files with their sha256

Two kinds of answer, and the page says which one it gives:

- **The exact rows** (`RECIPES`): for the indicators below the formula picks rows one can name (the reserve
  accounts' balances of one day, the complaints received in the period, the customer legs of one
  direction and counterparty field); each part's rows are re-aggregated and compared with the value row's
  numerator or denominator (`Part.check`), so the selection is proven, not asserted. A denominator that is
  a derived quantity (a wallet total rebuilt from openings and flows, the set of active customers) is shown
  as its intermediate rows, and where it can, as the filed rows those are made of.
- **The whole filing** (every other indicator): the rows are not narrowed down here. The filing types come
  from the dbt model graph (the indicator's mart and every model it refs, down to `stg_filings__<type>`),
  and every row of those filings of the enterprise's current version for the period is listed — the value
  is computed from (a subset of) them, the page does not claim which.

Staging rows keep `submission_id` and `_row` (the row's number in the delivered file, after the header), so
the same row is found in `raw.<filing_type>` (every version as delivered) and in the archived file, whose
sha256 the intake recorded (intake.files) and the download re-checks.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

MODELS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "models"
ROW_LIMIT = 200
RESERVE_CLASSES = "('RESERVE_CENTRAL', 'RESERVE_BANK')"
WALLETS = (
    "(select account_id from staging.stg_filings__accounts where enterprise_id = $enterprise "
    "and period = $period and account_class = 'CUSTOMER_WALLET')"
)


@dataclass(frozen=True)
class Part:
    """A set of staging rows behind the value: `sql` selects `s.*` from one staging table (named params
    $enterprise, $period, $day, $dimension, $dimension_value); `check` aggregates them (over alias s), and
    the checks of the parts with the same `against` add up to the value row's `against` column."""

    label: str
    filing_type: str
    sql: str
    check: str | None = None
    against: str | None = None  # "numerator" | "denominator"


@dataclass(frozen=True)
class Derived:
    """Intermediate rows a part of the formula is built from (not filed rows): shown as they are."""

    label: str
    sql: str


@dataclass(frozen=True)
class Recipe:
    note: str
    parts: tuple[Part, ...]
    derived: tuple[Derived, ...] = ()
    daily: bool = False  # the value row's as_of_date is the day ($day)
    worst_day_of: str | None = None  # a monthly roll-up: the day is the daily metric's lowest value


def _reserve_parts() -> tuple[tuple[Part, ...], tuple[Derived, ...]]:
    numerator = Part(
        "numerator: the bank-confirmed closing of each reserve account (RESERVE_CENTRAL, RESERVE_BANK) that day",
        "account_balances",
        f"""select s.* from staging.stg_filings__account_balances s
            join staging.stg_filings__accounts a on a.submission_id = s.submission_id and a.account_id = s.account_id
            where s.enterprise_id = $enterprise and s.period = $period and s.biz_date = cast($day as date)
              and a.account_class in {RESERVE_CLASSES}""",
        "coalesce(sum(s.bank_confirmed_closing), 0)",
        "numerator",
    )
    # int_customer_balances_daily: the wallets' period openings + the cumulative net flow of the `ok`
    # customer legs into and out of the wallet accounts, by value_date, from the period's first day
    openings = Part(
        "denominator, part 1: the customer wallets' balance rows of the period (filed once per period): "
        "their openings",
        "account_balances",
        """select s.* from staging.stg_filings__account_balances s
            join staging.stg_filings__accounts a on a.submission_id = s.submission_id and a.account_id = s.account_id
            where s.enterprise_id = $enterprise and s.period = $period and a.account_class = 'CUSTOMER_WALLET'""",
        "coalesce(sum(s.opening), 0)",
        "denominator",
    )
    flows = Part(
        "denominator, part 2: the customer legs into (+) and out of (−) the wallets from the period's first "
        "day up to that day (value date)",
        "transactions",
        f"""select s.*, case when s.credit_account_id in {WALLETS} then s.amount_cny else 0 end
                      - case when s.debit_account_id in {WALLETS} then s.amount_cny else 0 end as wallet_net
            from staging.stg_filings__transactions s
            join intermediate.int_customer_legs_classified l
              on l.submission_id = s.submission_id and l.txn_id = s.txn_id
            join intermediate.int_enterprise_periods p on p.enterprise_id = s.enterprise_id and p.period = s.period
            where s.enterprise_id = $enterprise and s.period = $period
              and l.value_date between p.period_start and cast($day as date)
              and (s.credit_account_id in {WALLETS} or s.debit_account_id in {WALLETS})""",
        "coalesce(sum(s.wallet_net), 0)",
        "denominator",
    )
    derived = Derived(
        "the model's own row for the denominator (intermediate.int_customer_balances_daily): opening_total + "
        "the net flows up to the day = derived_total",
        """select * from intermediate.int_customer_balances_daily
           where account_class = 'CUSTOMER_WALLET' and enterprise_id = $enterprise and period = $period
             and biz_date = cast($day as date)""",
    )
    return (numerator, openings, flows), (derived,)


_RES_PARTS, _RES_DERIVED = _reserve_parts()
_RES_NOTE = (
    "RES-001 = Σ bank-confirmed closings of the reserve accounts / the derived customer-wallet total, per day "
    "(the wallets' openings plus the net customer flow into them up to the day). Both are rebuilt from the rows "
    "below and checked against the value row's numerator and denominator."
)

_COMPLAINTS = Part(
    "numerator: the complaints received in the period (Shanghai date)",
    "complaints",
    """select s.* from staging.stg_filings__complaints s
       join intermediate.int_enterprise_periods p on p.enterprise_id = s.enterprise_id and p.period = s.period
       where s.enterprise_id = $enterprise and s.period = $period
         and s.received_date_sh between p.period_start and p.period_end""",
    "count(*)",
    "numerator",
)
_ACTIVE_CUSTOMERS = Part(
    "denominator: the active customers (the parties of intermediate.int_customers_active; whether a customer "
    "is active is decided from its legs)",
    "parties",
    """select s.* from staging.stg_filings__parties s
       join intermediate.int_customers_active c
         on c.enterprise_id = s.enterprise_id and c.period = s.period and c.party_id = s.party_id
       where s.enterprise_id = $enterprise and s.period = $period""",
    "count(distinct s.party_id)",
    "denominator",
)
_CUSTOMER_LEGS = Part(
    "denominator: the customer legs of the period (their amount_cny, per CNY 100m)",
    "transactions",
    """select s.* from staging.stg_filings__transactions s
       join intermediate.int_customer_legs_classified l on l.submission_id = s.submission_id and l.txn_id = s.txn_id
       where s.enterprise_id = $enterprise and s.period = $period""",
    "coalesce(sum(s.amount_cny), 0)",
    "denominator",
)


def _flow_part(directions: str, label: str) -> Part:
    # int_flows_by_direction: `ok` customer legs crossing the enterprise, by flow_direction, broken down by
    # a counterparty field ('none' where null); is_related_party is the external-side party's flag.
    return Part(
        label,
        "transactions",
        f"""select s.* from staging.stg_filings__transactions s
            join intermediate.int_customer_legs_classified l on l.submission_id = s.submission_id and l.txn_id = s.txn_id
            where s.enterprise_id = $enterprise and s.period = $period and l.flow_direction in {directions}
              and ($dimension is null
                   or $dimension = 'cp_sector' and coalesce(l.cp_sector, 'none') = $dimension_value
                   or $dimension = 'cp_region' and coalesce(l.cp_region, 'none') = $dimension_value
                   or $dimension = 'cp_country' and coalesce(l.cp_country, 'none') = $dimension_value
                   or $dimension = 'is_cross_border'
                      and coalesce(cast(l.is_cross_border as varchar), 'none') = $dimension_value
                   or $dimension = 'is_related_party'
                      and coalesce(cast(l.external_party_is_related as varchar), 'none') = $dimension_value)""",
        "coalesce(sum(s.amount_cny), 0)" if directions != "('inflow', 'outflow')" else None,
        "numerator" if directions != "('inflow', 'outflow')" else None,
    )


_FLOW_NOTE = (
    "FLOW-001 = Σ amount_cny of the `ok` customer legs crossing the enterprise in one direction (net = in − out), "
    "in total or for one value of a counterparty field. The legs are exact; the inflow and outflow sums are "
    "checked against the value row."
)

# (indicator_id, metric) -> how to find the rows behind a value of it
RECIPES: dict[tuple[str, str], Recipe] = {
    ("RES-001", "coverage_ratio"): Recipe(_RES_NOTE, _RES_PARTS, _RES_DERIVED, daily=True),
    ("RES-001", "coverage_ratio_worst_day"): Recipe(
        _RES_NOTE + " The monthly worst-day value is the lowest daily value: the rows are those of that day.",
        _RES_PARTS,
        _RES_DERIVED,
        worst_day_of="coverage_ratio",
    ),
    ("CPL-001", "complaints_per_10k_customers"): Recipe(
        "CPL-001 = complaints received in the period / active customers × 10,000. Both counts are checked "
        "against the value row.",
        (_COMPLAINTS, _ACTIVE_CUSTOMERS),
    ),
    ("CPL-001", "complaints_per_100m_cny"): Recipe(
        "CPL-001 per CNY 100m = complaints received in the period / the customer legs' volume × 1e8. Both are "
        "checked against the value row.",
        (_COMPLAINTS, _CUSTOMER_LEGS),
    ),
    ("FLOW-001", "inflow"): Recipe(_FLOW_NOTE, (_flow_part("('inflow')", "the inflow legs"),)),
    ("FLOW-001", "outflow"): Recipe(_FLOW_NOTE, (_flow_part("('outflow')", "the outflow legs"),)),
    ("FLOW-001", "net"): Recipe(
        _FLOW_NOTE, (_flow_part("('inflow', 'outflow')", "the inflow and outflow legs (net = in − out)"),)
    ),
}


# --- the dbt model graph ----------------------------------------------------------------------------------

REF = re.compile(r"""ref\(\s*['"]([A-Za-z0-9_]+)['"]\s*\)""")


@functools.cache
def _model_refs() -> dict[str, frozenset[str]]:
    return {p.stem: frozenset(REF.findall(p.read_text(encoding="utf-8"))) for p in MODELS_DIR.rglob("*.sql")}


@functools.cache
def indicator_models() -> dict[str, str]:
    """indicator_id -> the mart model that computes it (its meta.indicators in the models' yml)."""
    out: dict[str, str] = {}
    for path in sorted(MODELS_DIR.rglob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in doc.get("models") or []:
            meta = {**(model.get("meta") or {}), **((model.get("config") or {}).get("meta") or {})}
            for ind in meta.get("indicators") or []:
                if isinstance(ind, dict) and ind.get("id"):
                    out.setdefault(str(ind["id"]), str(model["name"]))
    return out


def filing_types(indicator_id: str) -> list[str]:
    """The filing types an indicator's mart reads, through every model it refs (stg_filings__<type>)."""
    model = indicator_models().get(indicator_id)
    if model is None:
        return []
    refs = _model_refs()
    seen, todo = {model}, [model]
    while todo:
        for r in refs.get(todo.pop(), frozenset()):
            if r not in seen:
                seen.add(r)
                todo.append(r)
    return sorted(m.removeprefix("stg_filings__") for m in seen if m.startswith("stg_filings__"))


# --- the trace -----------------------------------------------------------------------------------------


@dataclass
class PartResult:
    label: str
    filing_type: str
    rows: int
    raw_rows: list[dict[str, Any]]  # the rows as delivered (raw.<filing_type>), at most ROW_LIMIT
    check: dict[str, Any] | None = None  # {"expression", "rows_give", "against", "value_row_has", "ok"}


@dataclass
class Trace:
    value: dict[str, Any] | None
    exact: bool
    note: str
    day: str | None = None
    parts: list[PartResult] = field(default_factory=list)
    derived: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)  # submission versions of the rows
    files: list[dict[str, Any]] = field(
        default_factory=list
    )  # their files: path, sha256, bytes, archive_path


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    used = {k: v for k, v in params.items() if f"${k}" in sql}
    cur = con.execute(sql, used)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))


def value_row(
    con: duckdb.DuckDBPyConnection,
    enterprise: str,
    period: str,
    indicator: str,
    metric: str,
    as_of_date: str | None = None,
    dimension_value: str | None = None,
    dimension: str | None = None,
) -> dict[str, Any] | None:
    found = _rows(
        con,
        """select enterprise_id, period, indicator_id, metric, as_of_date, dimension, dimension_value, value,
                  numerator, denominator, threshold, status
           from marts.fct_indicator_values
           where enterprise_id = $enterprise and period = $period and indicator_id = $indicator and metric = $metric
             and as_of_date is not distinct from cast($day as date)
             and dimension is not distinct from $dimension and dimension_value is not distinct from $dimension_value
           limit 1""",
        {
            "enterprise": enterprise,
            "period": period,
            "indicator": indicator,
            "metric": metric,
            "day": as_of_date or None,
            "dimension": dimension or None,
            "dimension_value": dimension_value or None,
        },
    )
    return found[0] if found else None


def trace(
    con: duckdb.DuckDBPyConnection,
    enterprise: str,
    period: str,
    indicator: str,
    metric: str,
    as_of_date: str | None = None,
    dimension: str | None = None,
    dimension_value: str | None = None,
) -> Trace:
    """The rows behind one value of marts.fct_indicator_values (auditor snapshot: raw.* and intermediate.*)."""
    value = value_row(con, enterprise, period, indicator, metric, as_of_date, dimension_value, dimension)
    if value is None:
        return Trace(None, False, "No such indicator value in the published snapshot.")
    params: dict[str, Any] = {
        "enterprise": enterprise,
        "period": period,
        "day": str(value["as_of_date"]) if value["as_of_date"] else None,
        "dimension": value["dimension"],
        "dimension_value": value["dimension_value"],
    }
    recipe = RECIPES.get((indicator, metric))
    if recipe is not None and recipe.worst_day_of:
        worst = _rows(
            con,
            """select as_of_date from marts.fct_indicator_values
               where enterprise_id = $enterprise and period = $period and indicator_id = $indicator
                 and metric = $metric and value is not null order by value, as_of_date limit 1""",
            {
                "enterprise": enterprise,
                "period": period,
                "indicator": indicator,
                "metric": recipe.worst_day_of,
            },
        )
        params["day"] = str(worst[0]["as_of_date"]) if worst else None
    if recipe is not None and (recipe.daily or recipe.worst_day_of) and params["day"] is None:
        recipe = None  # no day to pick rows from: fall back to the whole filing
    if recipe is not None:
        parts, derived, exact, note = recipe.parts, recipe.derived, True, recipe.note
    else:
        types = filing_types(indicator)
        parts = tuple(
            Part(
                f"the whole {t} filing of the enterprise for the period (every row of the current version)",
                t,
                f"select s.* from staging.stg_filings__{t} s where s.enterprise_id = $enterprise and s.period = $period",
            )
            for t in types
        )
        derived, exact = (), False
        if not MODELS_DIR.is_dir():
            note = (
                "The rows behind this value are not narrowed down here, and the dbt project "
                f"({MODELS_DIR}) that names the filings {indicator} reads is not available to the portal: "
                "no rows are listed; see docs/indicators.md for its formula."
            )
        else:
            note = (
                f"The rows behind this value are not narrowed down here: {indicator}'s mart "
                f"({indicator_models().get(indicator, 'unknown')}) reads the whole "
                + (", ".join(types) + " filing(s)" if types else "intake records (no filed rows)")
                + " of the enterprise for the period, listed below; the value is computed from (a subset of) these "
                "rows, and its formula (docs/indicators.md) says which."
            )
    out = Trace(value, exact, note, day=params["day"])
    keys: list[str] = []
    for part in parts:
        n = _rows(con, f"select count(*) as n from ({part.sql}) s", params)[0]["n"]
        raw = _rows(
            con,
            f"""select r.* from raw."{part.filing_type}" r
                join (select submission_id, _row from ({part.sql}) s) k using (submission_id, _row)
                order by r.submission_id, r._row limit {ROW_LIMIT}""",
            params,
        )
        check = None
        if part.check and part.against:
            got = _rows(con, f"select {part.check} as v from ({part.sql}) s", params)[0]["v"]
            check = {"expression": part.check, "rows_give": got, "against": part.against}
        out.parts.append(PartResult(part.label, part.filing_type, n, raw, check))
        keys.append(f"select distinct submission_id, '{part.filing_type}' as filing_type from ({part.sql}) s")
    for against in ("numerator", "denominator"):  # the parts of one side add up to the value row's
        checks = [p.check for p in out.parts if p.check and p.check["against"] == against]
        total = sum((float(c["rows_give"] or 0) for c in checks), 0.0)
        for c in checks:
            c.update(total=total, shared=len(checks) > 1, value_row_has=value[against])
            c["ok"] = _same(total, value[against])
    for d in derived:
        out.derived.append((d.label, _rows(con, d.sql + f" limit {ROW_LIMIT}", params)))
    if keys:
        union = " union ".join(keys)
        out.versions = _rows(
            con,
            f"""select distinct x.submission_id, s.version, s.status, s.received_at, s.archive_path,
                       x.submission_id in (select submission_id from staging.stg_intake__submissions
                                           where is_current) as is_current
                from ({union}) x join intake.submissions s using (submission_id) order by 1""",
            params,
        )
        out.files = _rows(
            con,
            f"""select f.submission_id, f.filing_type, f.path, f.sha256, f.bytes, f.row_count, s.archive_path
                from ({union}) x join intake.files f using (submission_id, filing_type)
                join intake.submissions s using (submission_id) order by 1, 2, 3""",
            params,
        )
    return out
