"""The bad-input catalog (targets.md R1): malformed and hostile packages, each built by code.

Every case starts from the spec's valid PAY0001 example, re-keyed to an enterprise of its own (so cases
never interact through version ordering), breaks one thing, and states what the warehouse must answer:
the status, the rule id(s) and a substring of the actionable reason (what is wrong and where).

`build(landing, ent)` writes the package into the landing area and returns its folder; `before`, when
given, is delivered and taken in by an earlier run (re-drops, version conflicts).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.contracts import load_contracts
from tests.support import EXAMPLES

EXAMPLE = EXAMPLES / "PAY0001" / "PAY0001-2026-10-v1"
EXAMPLE_ENT = "PAY0001"
PERIOD = "2026-10"

SQL_INJECTION = "'; drop table raw.transactions; --"
FORMULA = '=HYPERLINK("http://evil.example/x","click me")'
TEN_MB = 10 * (1 << 20)

Builder = Callable[[Path, str], Path]


@dataclass(frozen=True)
class BadCase:
    name: str
    build: Builder
    status: str | None  # None: not a complete package, left in the landing area untouched
    rules: tuple[str, ...] = ()
    reason: str = ""
    before: Builder | None = None


# ---- helpers: a re-keyed copy of the example, manifest edits, sealing ---------------------------------


def start(landing: Path, ent: str, *, version: int = 1, supersedes: str | None = None) -> Path:
    """A valid copy of the example for enterprise `ent` as landing/<ent>/<ent>-2026-10-v<version>/."""
    sid = f"{ent}-{PERIOD}-v{version}"
    dest = landing / ent / sid
    dest.mkdir(parents=True)
    for f in sorted(EXAMPLE.iterdir()):
        (dest / f.name).write_bytes(f.read_bytes().replace(EXAMPLE_ENT.encode(), ent.encode()))
    seal(dest, submission_id=sid, version=version, supersedes=supersedes)
    return dest


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_bytes())


def write_manifest(folder: Path, m: dict) -> None:
    (folder / "manifest.json").write_text(json.dumps(m, indent=2, ensure_ascii=False), encoding="utf-8")
    stamp(folder)


def entry(m: dict, filing_type: str) -> dict:
    return next(f for f in m["files"] if f["filing_type"] == filing_type)


def seal(folder: Path, **changes) -> dict:
    """Recompute every listed regular file's sha256 (as a careful filer would), apply top-level changes."""
    import hashlib

    m = manifest(folder)
    for f in m["files"]:
        p = folder / f["path"]
        if p.is_file() and not p.is_symlink():
            f["sha256"] = hashlib.sha256(p.read_bytes()).hexdigest()
    m.update(changes)
    write_manifest(folder, m)
    return m


def stamp(folder: Path) -> None:
    """The manifest's mtime = its submitted_at (a backfill of past deliveries), as tests/support does."""
    path = folder / "manifest.json"
    try:
        at = datetime.fromisoformat(manifest(folder)["submitted_at"])
    except (ValueError, KeyError, TypeError, RecursionError):
        at = datetime.fromisoformat("2026-11-06T15:20:00+08:00")
    if os.path.lexists(path):
        os.utime(path, (at.timestamp(), at.timestamp()), follow_symlinks=False)


def edit_text(folder: Path, name: str, old: str, new: str, *, encoding: str = "utf-8") -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, (name, old)
    path.write_bytes(text.replace(old, new, 1).encode(encoding))


def set_entry(folder: Path, filing_type: str, *, reseal: bool = True, **fields) -> None:
    m = manifest(folder)
    entry(m, filing_type).update(fields)
    write_manifest(folder, m)
    if reseal:
        seal(folder)


def rewrite_manifest(folder: Path, data: bytes) -> Path:
    (folder / "manifest.json").write_bytes(data)
    stamp(folder)
    return folder


def valid(landing: Path, ent: str) -> Path:
    return start(landing, ent)


# ---- the cases ------------------------------------------------------------------------------------------


def missing_manifest_file(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    (pkg / "complaints.csv").unlink()
    return pkg


def checksum_mismatch(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    edit_text(pkg, "parties.csv", "310115", "310116")
    stamp(pkg)
    return pkg


def row_count_mismatch(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    set_entry(pkg, "transactions", row_count=10)
    return pkg


def undeclared_gbk(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    path = pkg / "enterprise_profile.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    seal(pkg)
    return pkg


def missing_column(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    lines = (pkg / "complaints.csv").read_text(encoding="utf-8").splitlines()
    (pkg / "complaints.csv").write_text("\n".join(",".join(x.split(",")[:-1]) for x in lines) + "\n")
    seal(pkg)
    return pkg


def bad_date(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    edit_text(pkg, "transactions.csv", "2026-10-03,W-P1", "31/10/2026,W-P1")
    seal(pkg)
    return pkg


def thousands_separator(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    edit_text(pkg, "transactions.csv", ",1200.00,CNY,1200.00,", ',"1,200.00",CNY,1200.00,')
    seal(pkg)
    return pkg


def no_manifest(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    (pkg / "manifest.json").unlink()
    return pkg


def manifest_not_json(landing: Path, ent: str) -> Path:
    return rewrite_manifest(start(landing, ent), b"spec_version = 1.0\nfiles = [transactions.csv]\n")


def manifest_json_array(landing: Path, ent: str) -> Path:
    return rewrite_manifest(start(landing, ent), b'["transactions.csv"]')


def manifest_not_utf8(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    m = manifest(pkg)
    m["comment"] = "支付"
    return rewrite_manifest(pkg, json.dumps(m, ensure_ascii=False).encode("gbk"))


def manifest_deeply_nested(landing: Path, ent: str) -> Path:
    return rewrite_manifest(start(landing, ent), b"[" * 200_000 + b"]" * 200_000)


def manifest_too_large(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    return rewrite_manifest(pkg, (pkg / "manifest.json").read_bytes() + b" " * 1_100_000)


def manifest_symlink(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    real = landing.parent / f"{ent}-manifest.json"
    shutil.move(pkg / "manifest.json", real)
    (pkg / "manifest.json").symlink_to(real)
    stamp(pkg)
    return pkg


def _schema_case(mutate: Callable[[dict], None]) -> Builder:
    def build(landing: Path, ent: str) -> Path:
        pkg = start(landing, ent)
        m = manifest(pkg)
        mutate(m)
        write_manifest(pkg, m)
        return pkg

    return build


def _drop_period(m: dict) -> None:
    del m["period"]


def _bad_sha(m: dict) -> None:
    entry(m, "transactions")["sha256"] = "not-a-checksum"


def _row_count_text(m: dict) -> None:
    entry(m, "transactions")["row_count"] = "9"


def _xlsx(m: dict) -> None:
    entry(m, "transactions")["format"] = "xlsx"


def _extra_key(m: dict) -> None:
    m["comment"] = "please ignore the balances"


def _float_total(m: dict) -> None:
    entry(m, "transactions")["control_totals"]["amount_cny"] = "9.524e3"


def _huge_version(m: dict) -> None:
    m["version"] = 10**20
    m["submission_id"] = f"{m['enterprise_id']}-{PERIOD}-v{10**20}"


def _huge_row_count(m: dict) -> None:
    entry(m, "transactions")["row_count"] = 10**30


def _impossible_time(m: dict) -> None:
    m["submitted_at"] = "2026-13-45T25:61:00+08:00"


def _spec_2(m: dict) -> None:
    m["spec_version"] = "2.0"


def _sid_fields(m: dict) -> None:
    m["version"] = 2


def _path(path: str) -> Callable[[dict], None]:
    def mutate(m: dict) -> None:
        entry(m, "transactions")["path"] = path

    return mutate


def folder_not_sid(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    return pkg.rename(pkg.with_name("upload-final"))


def zero_byte_csv(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    (pkg / "transactions.csv").write_bytes(b"")
    seal(pkg)
    return pkg


def header_only_rows_declared(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    head = (pkg / "complaints.csv").read_text(encoding="utf-8").splitlines()[0]
    (pkg / "complaints.csv").write_text(head + "\n", encoding="utf-8")
    seal(pkg)
    return pkg


def zero_byte_jsonl_no_rows(landing: Path, ent: str) -> Path:
    """Valid: a filing type with no rows filed as a zero-byte JSON Lines file."""
    pkg = start(landing, ent)
    (pkg / "incidents.csv").unlink()
    (pkg / "incidents.jsonl").write_bytes(b"")
    set_entry(pkg, "incidents", path="incidents.jsonl", format="jsonl", row_count=0)
    return pkg


def empty_parquet_no_rows(landing: Path, ent: str) -> Path:
    """Valid: a filing type with no rows filed as a Parquet file with the contract's schema."""
    pkg = start(landing, ent)
    (pkg / "aml_reports.csv").unlink()
    contract = load_contracts()["aml_reports"]
    cols = ", ".join(f"cast(null as {c.duckdb_type}) as {c.name}" for c in contract.columns)
    out = pkg / "aml_reports.parquet"
    duckdb.connect().execute(f"copy (select {cols} where false) to '{out}' (format parquet)")
    set_entry(pkg, "aml_reports", path="aml_reports.parquet", format="parquet", row_count=0)
    return pkg


def ten_mb_line(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    (pkg / "transactions.csv").write_bytes(b"x" * TEN_MB)
    seal(pkg)
    return pkg


def ten_mb_text_field(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    edit_text(pkg, "complaints.csv", "payment not received by merchant", "A" * TEN_MB)
    seal(pkg)
    return pkg


def binary_garbage_csv(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    (pkg / "transactions.csv").write_bytes(random.Random(7).randbytes(64 * 1024))
    seal(pkg)
    return pkg


def binary_garbage_parquet(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    (pkg / "liquidity.csv").unlink()
    (pkg / "liquidity.parquet").write_bytes(random.Random(8).randbytes(64 * 1024))
    set_entry(pkg, "liquidity", path="liquidity.parquet", format="parquet")
    return pkg


def _gzip_transactions(pkg: Path, data: bytes) -> None:
    (pkg / "transactions.csv").unlink()
    (pkg / "transactions.csv.gz").write_bytes(data)
    set_entry(pkg, "transactions", path="transactions.csv.gz", compression="gzip")


def truncated_gzip(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    data = gzip.compress((pkg / "transactions.csv").read_bytes(), mtime=0)
    _gzip_transactions(pkg, data[: len(data) // 2])
    return pkg


def gzip_bomb(landing: Path, ent: str) -> Path:
    """A valid header, then 100 MiB of zeros in a ~100 KB gzip stream."""
    pkg = start(landing, ent)
    header = (pkg / "transactions.csv").read_bytes().split(b"\n")[0] + b"\n"
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [comp.compress(header)]
    zeros = b"\0" * (1 << 20)
    parts += [comp.compress(zeros) for _ in range(100)]
    parts.append(comp.flush())
    _gzip_transactions(pkg, b"".join(parts))
    return pkg


def gzip_declared_plain_name(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    set_entry(pkg, "transactions", compression="gzip")
    return pkg


def symlink_listed(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    (pkg / "transactions.csv").unlink()
    (pkg / "transactions.csv").symlink_to("/etc/passwd")
    return pkg


def symlink_unlisted(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    (pkg / "secrets").symlink_to("/etc")
    return pkg


def unlisted_extra_file(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    (pkg / "notes.txt").write_text("numbers are preliminary\n", encoding="utf-8")
    return pkg


def conflicting_reuse(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    edit_text(pkg, "complaints.csv", "explanation", "monetary")
    seal(pkg)
    return pkg


def version_not_above(landing: Path, ent: str) -> Path:
    return start(landing, ent, version=1, supersedes=f"{ent}-{PERIOD}-v2")


def version_two(landing: Path, ent: str) -> Path:
    return start(landing, ent, version=2)


def supersedes_missing(landing: Path, ent: str) -> Path:
    return start(landing, ent, version=2, supersedes=None)


def other_enterprise_folder(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    other = landing / "PAY9999" / pkg.name
    other.parent.mkdir(parents=True, exist_ok=True)
    pkg.rename(other)
    (landing / ent).rmdir()
    return other


def semicolon_delimiter(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    path = pkg / "transactions.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    seal(pkg)
    return pkg


def utf8_bom(landing: Path, ent: str) -> Path:
    """Valid: a UTF-8 byte-order mark is tolerated."""
    pkg = start(landing, ent)
    path = pkg / "enterprise_profile.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    seal(pkg)
    return pkg


def crlf_line_ends(landing: Path, ent: str) -> Path:
    """Valid: CRLF line ends."""
    pkg = start(landing, ent)
    path = pkg / "transactions.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    seal(pkg)
    return pkg


def nul_bytes(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    edit_text(pkg, "complaints.csv", "payment not received", "payment\x00not received")
    seal(pkg)
    return pkg


def invalid_utf8(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    path = pkg / "complaints.csv"
    path.write_bytes(path.read_bytes().replace(b"not received", b"not \xff\xfe received"))
    seal(pkg)
    return pkg


def sql_injection_text(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    edit_text(pkg, "complaints.csv", "payment not received by merchant", SQL_INJECTION)
    seal(pkg)
    return pkg


def formula_injection_text(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    quoted = '"' + FORMULA.replace('"', '""') + '"'
    edit_text(pkg, "complaints.csv", "payment not received by merchant", quoted)
    seal(pkg)
    return pkg


def formula_in_money(landing: Path, ent: str) -> Path:
    """The filer's formula comes back in the edit report: it must be neutralised there."""
    pkg = start(landing, ent)
    edit_text(pkg, "complaints.csv", ",1200.00,", ",=1+2,")
    seal(pkg)
    return pkg


def parquet_money_as_double(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    src = pkg / "liquidity.csv"
    out = pkg / "liquidity.parquet"
    duckdb.connect().execute(
        f"""copy (select * replace (cast(as_of_date as date) as as_of_date, cast(hqla as double) as hqla)
                  from read_csv('{src}', all_varchar = true)) to '{out}' (format parquet)"""
    )
    src.unlink()
    set_entry(pkg, "liquidity", path="liquidity.parquet", format="parquet")
    return pkg


def _jsonl_balances(pkg: Path, edit: Callable[[list[str]], list[str]]) -> None:
    src = pkg / "account_balances.csv"
    out = pkg / "account_balances.jsonl"
    duckdb.connect().execute(
        f"copy (select * from read_csv('{src}', all_varchar = true)) to '{out}' (format json)"
    )
    out.write_text("\n".join(edit(out.read_text(encoding="utf-8").splitlines())) + "\n", encoding="utf-8")
    src.unlink()
    set_entry(pkg, "account_balances", path="account_balances.jsonl", format="jsonl")


def jsonl_broken_line(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    _jsonl_balances(pkg, lambda lines: [*lines[:2], lines[2][:40], *lines[3:]])
    return pkg


def jsonl_array_line(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    _jsonl_balances(pkg, lambda lines: [*lines[:4], '["W-P1", "2026-10-31"]', *lines[5:]])
    return pkg


def filing_type_twice(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    m = manifest(pkg)
    m["files"].append(dict(entry(m, "complaints")))
    write_manifest(pkg, m)
    return pkg


def filing_type_missing(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    m = manifest(pkg)
    m["files"] = [f for f in m["files"] if f["filing_type"] != "liquidity"]
    (pkg / "liquidity.csv").unlink()
    write_manifest(pkg, m)
    return pkg


def filing_type_not_owed(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    names = load_contracts()["loans"].column_names
    (pkg / "loans.csv").write_text(",".join(names) + "\n", encoding="utf-8")
    m = manifest(pkg)
    m["files"].append(
        {
            "filing_type": "loans",
            "path": "loans.csv",
            "format": "csv",
            "sha256": "0" * 64,
            "row_count": 0,
            "control_totals": {"outstanding_principal": "0.00"},
        }
    )
    write_manifest(pkg, m)
    seal(pkg)
    return pkg


def control_total_mismatch(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    m = manifest(pkg)
    entry(m, "transactions")["control_totals"]["amount_cny"] = "9525.00"
    write_manifest(pkg, m)
    return pkg


def extra_column(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    lines = (pkg / "incidents.csv").read_text(encoding="utf-8").splitlines()
    (pkg / "incidents.csv").write_text(lines[0] + ",comment\n", encoding="utf-8")
    seal(pkg)
    return pkg


def repeated_column(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    lines = (pkg / "incidents.csv").read_text(encoding="utf-8").splitlines()
    (pkg / "incidents.csv").write_text(lines[0] + ",system\n", encoding="utf-8")
    seal(pkg)
    return pkg


def unterminated_quote(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    edit_text(pkg, "complaints.csv", ",wallet payment,", ',"wallet payment,')
    seal(pkg)
    return pkg


def ragged_row(landing: Path, ent: str) -> Path:
    pkg = start(landing, ent)
    edit_text(pkg, "complaints.csv", ",false,false", ",false,false,true")
    seal(pkg)
    return pkg


MALFORMED, ACCEPTED = "MALFORMED", "ACCEPTED"

CASES: list[BadCase] = [
    # the syntax classes of irregularities.md
    BadCase("missing_manifest_file", missing_manifest_file, MALFORMED, ("S007",), "complaints.csv is listed in the manifest but absent"),
    BadCase("checksum_mismatch", checksum_mismatch, MALFORMED, ("S009",), "parties.csv: SHA-256 of the delivered bytes"),
    BadCase("row_count_mismatch", row_count_mismatch, MALFORMED, ("S010",), "transactions.csv has 9 data rows but the manifest says row_count 10"),
    BadCase("undeclared_gbk", undeclared_gbk, MALFORMED, ("S013",), "enterprise_profile.csv: the file is not valid utf-8 (line 2); if it is GBK or GB18030, declare"),
    BadCase("missing_column", missing_column, MALFORMED, ("S014",), "complaints.csv: missing column(s) escalated"),
    BadCase("bad_date", bad_date, MALFORMED, ("S015",), "transactions.csv: value_date = '31/10/2026' is not a valid date"),
    BadCase("thousands_separator", thousands_separator, MALFORMED, ("S015",), "transactions.csv: amount = '1,200.00' is not a valid money"),
    # the manifest
    BadCase("no_manifest", no_manifest, None),
    BadCase("manifest_not_json", manifest_not_json, MALFORMED, ("S001",), "manifest.json is not valid UTF-8 JSON"),
    BadCase("manifest_json_array", manifest_json_array, MALFORMED, ("S002",), "manifest.json must hold a JSON object"),
    BadCase("manifest_not_utf8", manifest_not_utf8, MALFORMED, ("S001",), "manifest.json is not valid UTF-8 JSON"),
    BadCase("manifest_deeply_nested", manifest_deeply_nested, MALFORMED, ("S001",), "manifest.json is nested too deeply"),
    BadCase("manifest_too_large", manifest_too_large, MALFORMED, ("S001",), "manifest.json is larger than 1000000 bytes"),
    BadCase("manifest_symlink", manifest_symlink, MALFORMED, ("S001",), "manifest.json is not a regular file"),
    BadCase("manifest_missing_period", _schema_case(_drop_period), MALFORMED, ("S002",), "'period' is a required property"),
    BadCase("manifest_bad_sha256", _schema_case(_bad_sha), MALFORMED, ("S002",), "manifest.json at files/4/sha256: 'not-a-checksum' does not match"),
    BadCase("manifest_row_count_text", _schema_case(_row_count_text), MALFORMED, ("S002",), "manifest.json at files/4/row_count: '9' is not of type 'integer'"),
    BadCase("manifest_unknown_format", _schema_case(_xlsx), MALFORMED, ("S002",), "manifest.json at files/4/format: 'xlsx' is not one of"),
    BadCase("manifest_extra_key", _schema_case(_extra_key), MALFORMED, ("S002",), "('comment' was unexpected)"),
    BadCase("manifest_float_control_total", _schema_case(_float_total), MALFORMED, ("S002",), "files/4/control_totals/amount_cny: '9.524e3' does not match"),
    BadCase("manifest_huge_version", _schema_case(_huge_version), MALFORMED, ("S002",), "manifest.json at version: 100000000000000000000 is greater than the maximum"),
    BadCase("manifest_huge_row_count", _schema_case(_huge_row_count), MALFORMED, ("S002",), "files/4/row_count: 1000000000000000000000000000000 is greater than the maximum"),
    BadCase("manifest_impossible_time", _schema_case(_impossible_time), MALFORMED, ("S002",), "submitted_at '2026-13-45T25:61:00+08:00' is not a valid date and time"),
    BadCase("unsupported_spec_version", _schema_case(_spec_2), MALFORMED, ("S003",), "spec_version '2.0' is not supported"),
    BadCase("submission_id_vs_fields", _schema_case(_sid_fields), MALFORMED, ("S004",), "must be '{ent}-2026-10-v2'"),
    BadCase("folder_not_submission_id", folder_not_sid, MALFORMED, ("S004",), "the package folder is named 'upload-final'"),
    BadCase("other_enterprise_folder", other_enterprise_folder, MALFORMED, ("S004",), "delivered in the landing folder of PAY9999: deliver it under landing/{ent}/"),
    BadCase("path_parent", _schema_case(_path("../transactions.csv")), MALFORMED, ("S007", "S008"), "path '../transactions.csv' escapes the package"),
    BadCase("path_absolute", _schema_case(_path("/etc/passwd")), MALFORMED, ("S007", "S008"), "path '/etc/passwd' escapes the package"),
    BadCase("path_backslash", _schema_case(_path("..\\transactions.csv")), MALFORMED, ("S007",), "escapes the package"),
    # versions and re-drops
    BadCase("duplicate_redrop", valid, "DUPLICATE", (), "identical re-drop of {ent}-2026-10-v1", before=valid),
    BadCase("conflicting_reuse", conflicting_reuse, MALFORMED, ("S005",), "submission_id already used; resubmit as v2", before=valid),
    BadCase("version_not_above", version_not_above, MALFORMED, ("S005",), "version 1 is not higher than v2 already received: resubmit as v3", before=version_two),
    BadCase("supersedes_missing", supersedes_missing, MALFORMED, ("S005",), "set supersedes to '{ent}-2026-10-v1'", before=valid),
    # the package's contents
    BadCase("filing_type_twice", filing_type_twice, MALFORMED, ("S006",), "filing type complaints is listed 2 times"),
    BadCase("filing_type_missing", filing_type_missing, MALFORMED, ("S006",), "filing type liquidity is owed by PAY but not listed"),
    BadCase("filing_type_not_owed", filing_type_not_owed, MALFORMED, ("S006",), "filing type loans is not owed by PAY"),
    BadCase("unlisted_extra_file", unlisted_extra_file, MALFORMED, ("S008",), "notes.txt is in the package but not listed"),
    BadCase("symlink_listed", symlink_listed, MALFORMED, ("S007",), "'transactions.csv' escapes the package or passes through a link"),
    BadCase("symlink_unlisted", symlink_unlisted, MALFORMED, ("S008",), "secrets is in the package but not listed"),
    BadCase("zero_byte_csv", zero_byte_csv, MALFORMED, ("S014",), "transactions.csv: the file is empty"),
    BadCase("header_only_rows_declared", header_only_rows_declared, MALFORMED, ("S010",), "complaints.csv has 0 data rows but the manifest says row_count 1"),
    BadCase("zero_byte_jsonl_no_rows", zero_byte_jsonl_no_rows, ACCEPTED),
    BadCase("empty_parquet_no_rows", empty_parquet_no_rows, ACCEPTED),
    BadCase("ten_mb_line", ten_mb_line, MALFORMED, ("S014",), "transactions.csv: the first line is longer than 65536 bytes"),
    BadCase("ten_mb_text_field", ten_mb_text_field, "REJECTED", ("V",), "issue"),
    BadCase("binary_garbage_csv", binary_garbage_csv, MALFORMED, ("S013",), "transactions.csv: the header is not valid utf-8"),
    BadCase("binary_garbage_parquet", binary_garbage_parquet, MALFORMED, ("S012",), "liquidity.parquet: the file cannot be read as parquet"),
    BadCase("truncated_gzip", truncated_gzip, MALFORMED, ("S012",), "transactions.csv.gz: declared gzip but the file does not decompress"),
    BadCase("gzip_bomb", gzip_bomb, MALFORMED, ("S012",), "transactions.csv.gz: gzip expands beyond 64 MiB"),
    BadCase("gzip_declared_plain_name", gzip_declared_plain_name, MALFORMED, ("S012",), "transactions.csv: compression 'gzip' does not match the file name"),
    BadCase("semicolon_delimiter", semicolon_delimiter, MALFORMED, ("S014",), "transactions.csv: missing column(s) enterprise_id"),
    BadCase("utf8_bom", utf8_bom, ACCEPTED),
    BadCase("crlf_line_ends", crlf_line_ends, ACCEPTED),
    BadCase("nul_bytes", nul_bytes, MALFORMED, ("S015",), "complaints.csv: issue = 'payment\\x00not received by merchant' contains a NUL byte"),
    BadCase("invalid_utf8", invalid_utf8, MALFORMED, ("S013",), "complaints.csv: the file is not valid utf-8"),
    BadCase("control_total_mismatch", control_total_mismatch, MALFORMED, ("S011",), "control total amount_cny: the file sums to 9524.00 but the manifest says 9525.00"),
    BadCase("extra_column", extra_column, MALFORMED, ("S014",), "incidents.csv: unknown column(s) 'comment'"),
    BadCase("repeated_column", repeated_column, MALFORMED, ("S014",), "incidents.csv: repeated column(s) system"),
    BadCase("unterminated_quote", unterminated_quote, MALFORMED, ("S012",), "complaints.csv: the file cannot be read as csv"),
    BadCase("ragged_row", ragged_row, MALFORMED, ("S012",), "complaints.csv: the file cannot be read as csv"),
    BadCase("parquet_money_as_double", parquet_money_as_double, MALFORMED, ("S015",), "liquidity.parquet: hqla is DOUBLE in the Parquet schema"),
    BadCase("jsonl_broken_line", jsonl_broken_line, MALFORMED, ("S012",), "account_balances.jsonl: the file cannot be read as jsonl"),
    BadCase("jsonl_array_line", jsonl_array_line, MALFORMED, ("S012",), "account_balances.jsonl: line 5 is not a JSON object"),
    # hostile text: stored verbatim, harmless
    BadCase("sql_injection_text", sql_injection_text, ACCEPTED),
    BadCase("formula_injection_text", formula_injection_text, ACCEPTED),
    BadCase("formula_in_money", formula_in_money, MALFORMED, ("S015",), "complaints.csv: amount_disputed = '=1+2' is not a valid money"),
]  # fmt: skip
