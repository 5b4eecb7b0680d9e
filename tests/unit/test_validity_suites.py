"""The validity suites are derived from the contracts, and the checked-in JSON is current."""

from __future__ import annotations

import json

import pytest

from pipelines.contracts import load_contracts
from pipelines.quality import uscc
from pipelines.quality.suites import build_suites, index_columns, stored_suites, suite_json, suites_dir
from pipelines.quality.validity import fill_message


def test_checked_in_suites_are_current():
    stored = stored_suites()
    built = {ft: suite_json(s) for ft, s in build_suites().items()}
    assert sorted(stored) == sorted(built), "run: python -m pipelines.quality.suites"
    for ft in built:
        assert stored[ft] == built[ft], (
            f"expectations/.../validity/{ft}.json is stale: python -m pipelines.quality.suites"
        )


def test_suite_files_are_plain_json_without_generated_ids():
    for path in suites_dir().glob("*.json"):
        text = path.read_text(encoding="utf-8")
        assert '"id"' not in text, path
        json.loads(text)


@pytest.mark.parametrize("ft", list(load_contracts()))
def test_every_contract_column_is_covered(ft):
    contract = load_contracts()[ft]
    suite = build_suites()[ft]
    checked = {f for e in suite.expectations for f in e.meta["fields"]} | {
        getattr(e, "column", None) for e in suite.expectations
    }
    for col in contract.columns:
        if col.always_required:
            assert any(
                e.meta["rule_id"] == "V001" and e.column == col.name
                for e in suite.expectations
                if hasattr(e, "column")
            ), col.name
        if col.values or col.required_when or col.null_unless or col.kind.validity:
            assert col.name in checked, col.name
    for e in suite.expectations:
        assert e.meta["rule_id"].startswith("V") and e.meta["filing_type"] == ft
        assert e.meta["message"]
        # the failing rows come from GX: an unexpected-rows query returns the identity of the row (a
        # column-map expectation's unexpected_index_query selects it: see test_gx_duckdb)
        if e.configuration.type == "unexpected_rows_expectation":
            sql = e.unexpected_rows_query
            assert sql.startswith("select " + ", ".join(index_columns(contract))), sql
        else:
            assert e.configuration.kwargs["column"] in {c.name for c in contract.columns}


def test_values_of_the_generated_checks():
    tx = {
        (e.meta["rule_id"], e.meta["fields"][0] if e.meta["fields"] else None): e
        for e in build_suites()["transactions"].expectations
    }
    assert tx[("V004", "currency")].value_set == ["CNY", "USD", "EUR", "HKD", "JPY", "GBP"]
    amount = tx[("V005", "amount_cny")]
    assert amount.min_value == 0 and amount.strict_min is True and amount.max_value is None
    cp_region = tx[("V002", "cp_region")]
    assert (
        "cp_country = 'CN'" in cp_region.unexpected_rows_query
        and "cp_region is null" in cp_region.unexpected_rows_query
    )
    assert cp_region.meta["fields"] == ["cp_region", "debit_account_id", "credit_account_id", "cp_country"]
    assert "regexp_matches(cp_region, '^[1-8][0-9]{{5}}$')" in tx[("V006", "cp_region")].unexpected_rows_query
    booked = tx[("V015", "booked_at")].unexpected_rows_query
    assert "timezone('Asia/Shanghai', booked_at)" in booked
    key = tx[("V012", "txn_id")].unexpected_rows_query
    assert "partition by submission_id, txn_id" in key
    ext = build_suites()["complaints"].expectations
    assert any(
        e.meta["rule_id"] == "V005" and e.column == "extension_count" and e.max_value == 2
        for e in ext
        if hasattr(e, "column")
    )


def test_fill_message():
    assert fill_message("{a} and {b}", {"a": 1, "b": None}) == "1 and (empty)"
    assert fill_message("{missing} stays", {}) == "{missing} stays"


@pytest.mark.parametrize(
    "code,valid",
    [
        ("91310115MA1K000190", True),
        ("91440300MA5D000129", True),
        ("91350100M000100Y43", True),
        ("91310115MA1K000191", False),
        ("91310115MA1K00019", False),
        ("91310115MA1K0001I0", False),
        (None, False),
    ],
)
def test_uscc(code, valid):
    assert uscc.is_valid(code) is valid


def test_uscc_sql_agrees_with_python():
    import duckdb

    codes = [
        "91310115MA1K000190",
        "91440300MA5D000129",
        "91350100M000100Y43",
        "91310115MA1K000191",
        "9131011",
        "91310115MA1K0001I0",
    ]
    for i in range(200):  # every check character position of a family of codes
        body = f"9131011{i:04d}MA1K00"
        codes.append(body + uscc.check_character(body))
        codes.append(body + "0" if uscc.check_character(body) != "0" else body + "1")
    con = duckdb.connect()
    rows = con.sql(
        f"select c, {uscc.sql_is_valid('c')} from unnest(?::varchar[]) t(c)", params=[codes]
    ).fetchall()
    for c, ok in rows:
        assert ok is uscc.is_valid(c), c
