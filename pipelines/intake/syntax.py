"""The syntactical (S) rules: each rule's one definition, registered in the rule registry
(:func:`pipelines.quality.rules.syntax_rule`) beside its catalog entry (``catalog/syntactical.yml``).

A definition is a function over the delivery's bytes returning the rule's problems (built with
:func:`~pipelines.intake.problems.issue`; the registration stamps the rule id), and/or the read failures
(:data:`~pipelines.intake.problems.Failure`) the rule claims: failures found in one pass by the manifest
parser, the file readers and the intake itself, reported under the rule that claims them. No other module
writes an S rule id. ``tests/unit/test_catalog_syntax.py`` checks that the catalog's S rules and the
registered checks are the same, and that every failure kind is claimed.

The checks run in a fixed order - the manifest's (S001, S002, S003) in ``manifest.parse_manifest``, the
column set (S014) in ``readers.check_columns`` while a file is read, the others from
pipelines/intake/service.py (the listed files' in :func:`check_files`, a staged file's in
:func:`check_staged`): the order decides a delivery's first problem, which is its status reason. Only S017
(the intake failing on a delivery) has no check of its own: it is the failure kind it claims.

Adding an S rule: its catalog entry, a check here and its call where its input exists (the worked
example "Adding an S rule" of docs/dev-interfaces.md, which tests/unit/test_catalog_syntax.py runs).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import ParamSpec

import duckdb
import jsonschema

from pipelines.calendar import ent_type_of, period_problem, required_filing_types
from pipelines.contracts import Contract
from pipelines.intake.manifest import (
    SUPPORTED_SPEC_VERSIONS,
    FileEntry,
    Manifest,
    clip,
    first_surrogate,
    manifest_schema,
    parse_submitted_at,
)
from pipelines.intake.package import Package, safe_path
from pipelines.intake.problems import Failure, Problem, issue, printable
from pipelines.intake.values import ValueScan, invalid_sample, scan_values
from pipelines.quality.rules import syntax_rule

P = ParamSpec("P")


def check(
    rule_id: str, *, claims: tuple[Failure, ...] = ()
) -> Callable[[Callable[P, list[Problem]]], Callable[P, list[Problem]]]:
    """Register the decorated function as the check of S rule ``rule_id`` (and the failures it claims);
    the problems it returns carry ``rule_id``."""

    def register(fn: Callable[P, list[Problem]]) -> Callable[P, list[Problem]]:
        @functools.wraps(fn)
        def stamped(*args: P.args, **kwargs: P.kwargs) -> list[Problem]:
            return [replace(p, rule_id=rule_id) for p in fn(*args, **kwargs)]

        syntax_rule(rule_id, claims=claims)(stamped)
        return stamped

    return register


def claims(rule_id: str, *kinds: Failure) -> None:
    """Register S rule ``rule_id`` as found only as the read failures ``kinds``."""
    syntax_rule(rule_id, claims=kinds)(None)


# ------------------------------------------------------------------------------------------------------
# the manifest (pipelines/intake/manifest.py parse_manifest runs them in this order; the first problem
# makes the manifest unusable)


@check("S001", claims=("manifest_unreadable",))
def manifest_is_json(data: bytes) -> list[Problem]:
    """manifest.json is UTF-8 JSON with no unpaired surrogate escape. (Not a regular file, larger than
    1 MB, unreadable or nested too deeply: manifest_unreadable, found when it is read.)"""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:  # ValueError: JSON syntax, or an int of > 4300 digits
        return [issue(f"manifest.json is not valid UTF-8 JSON: {clip(str(exc), 200)}")]
    bad = first_surrogate(doc)
    if bad is not None:
        where, text = bad
        return [
            issue(
                f"manifest.json at {clip(ascii(where)[1:-1], 80)}: {clip(ascii(text), 80)} holds an unpaired "
                "surrogate escape, which is no character: write the text as UTF-8"
            )
        ]
    return []


@check("S002")
def manifest_follows_schema(doc: object) -> list[Problem]:
    """The manifest is a JSON object following the manifest schema, with a valid submitted_at (checked
    once the spec_version is supported: an unsupported one is reported by S003 first)."""
    if not isinstance(doc, dict):
        return [issue("manifest.json must hold a JSON object")]
    errors = sorted(jsonschema.Draft202012Validator(manifest_schema()).iter_errors(doc), key=lambda e: e.path)
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(top level)"
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        return [issue(f"manifest.json at {clip(where, 80)}: {clip(errors[0].message)}{more}")]
    if doc["spec_version"] in SUPPORTED_SPEC_VERSIONS:
        try:
            parse_submitted_at(doc["submitted_at"])
        except (ValueError, OverflowError):
            return [
                issue(f"manifest.json: submitted_at {doc['submitted_at']!r} is not a valid date and time")
            ]
    return []


@check("S003")
def supported_spec_version(doc: dict) -> list[Problem]:
    """spec_version is one the warehouse supports (of a manifest that follows the schema)."""
    if doc["spec_version"] not in SUPPORTED_SPEC_VERSIONS:
        return [
            issue(
                f"spec_version {doc['spec_version']!r} is not supported; use one of {SUPPORTED_SPEC_VERSIONS}"
            )
        ]
    return []


# ------------------------------------------------------------------------------------------------------
# the package


@check("S004", claims=("not_a_package", "misplaced"))
def package_identity(pkg: Package) -> list[Problem]:
    """submission_id is <enterprise_id>-<period>-v<version>, names the folder, and the folder sits in the
    enterprise's landing folder. (A link or loose file is not_a_package, found when the landing area is
    listed; a folder that claims no submission id of its enterprise folder is misplaced.)"""
    m = pkg.manifest
    assert m is not None
    problems = []
    expected_id = f"{m.enterprise_id}-{m.period}-v{m.version}"
    if m.submission_id != expected_id:
        problems.append(
            issue(
                f"submission_id {m.submission_id!r} must be {expected_id!r} "
                "(<enterprise_id>-<period>-v<version>)"
            )
        )
    if m.submission_id != pkg.folder_id:
        problems.append(
            issue(
                f"the package folder is named '{printable(pkg.folder_id)}' but submission_id is "
                f"{m.submission_id!r}: name the folder after the submission_id"
            )
        )
    if m.enterprise_id != pkg.enterprise_dir:
        problems.append(
            issue(
                f"the manifest is for {m.enterprise_id} but was delivered in the landing "
                f"folder of {printable(pkg.enterprise_dir)}: deliver it under landing/{m.enterprise_id}/"
            )
        )
    return problems


@check("S005", claims=("id_reused",))
def version_ordering(con: duckdb.DuckDBPyConnection, pkg: Package) -> list[Problem]:
    """version above every version of the enterprise and period received, supersedes naming the highest
    (null for the first). (A submission id reused with other bytes is id_reused.)"""
    m = pkg.manifest
    assert m is not None
    prior = con.execute(
        "select submission_id, version from intake.submissions where enterprise_id = ? and period = ? "
        "and submission_id <> ? and version is not null order by version desc limit 1",
        [m.enterprise_id, m.period, pkg.folder_id],
    ).fetchone()
    if prior is None:
        if m.supersedes is not None:
            return [
                issue(
                    f"supersedes names {m.supersedes} but no earlier version of {m.enterprise_id} "
                    f"{m.period} was received: set supersedes to null"
                )
            ]
        return []
    prior_id, prior_version = prior
    problems = []
    if m.version <= prior_version:
        problems.append(
            issue(
                f"version {m.version} is not higher than v{prior_version} already received: "
                f"resubmit as v{prior_version + 1}"
            )
        )
    if m.supersedes != prior_id:
        problems.append(
            issue(
                f"supersedes is {m.supersedes!r} but the highest version received is "
                f"{prior_id}: set supersedes to {prior_id!r}"
            )
        )
    return problems


@check("S006")
def filing_types_listed_once(m: Manifest) -> list[Problem]:
    """files lists every filing type the enterprise type owes exactly once, and nothing else."""
    ent_type = ent_type_of(m.enterprise_id)
    owed = required_filing_types().get(ent_type or "", ())
    listed = [f.filing_type for f in m.files]
    problems = []
    for ft in owed:
        if ft not in listed:
            problems.append(
                issue(
                    f"filing type {ft} is owed by {ent_type} but not listed in files: "
                    "file it (with zero rows if nothing happened)",
                    ft,
                )
            )
    for ft in sorted(set(listed)):
        if listed.count(ft) > 1:
            problems.append(issue(f"filing type {ft} is listed {listed.count(ft)} times: list it once", ft))
        if ft not in owed:
            problems.append(issue(f"filing type {ft} is not owed by {ent_type}: remove it", ft))
    return problems


@dataclass(frozen=True)
class ListedFile:
    """A file the manifest lists: its entry, its path inside the package (None when the path escapes it)
    and the SHA-256 of its bytes (None when it is no regular file)."""

    entry: FileEntry
    path: Path | None
    sha256: str | None


@check("S007")
def listed_file_present(listed: ListedFile) -> list[Problem]:
    """A listed file exists as a regular file inside the package folder."""
    f, path = listed.entry, listed.path
    if path is None:
        return [
            issue(
                f"path {f.path!r} escapes the package or passes through a link: "
                "use a plain file name inside the package folder",
                f.filing_type,
            )
        ]
    if not os.path.lexists(path):
        return [issue(f"{f.path} is listed in the manifest but absent from the package", f.filing_type)]
    if path.is_symlink() or not path.is_file():
        return [issue(f"{f.path} is not a regular file (links are refused)", f.filing_type)]
    return []


@check("S012", claims=("format",))
def format_and_compression(listed: ListedFile) -> list[Problem]:
    """gzip exactly when the name ends in .gz, and only for csv and jsonl. (A file that does not
    decompress or parse in its format is a format failure, found when it is read.)"""
    f = listed.entry
    problems = []
    if (f.compression == "gzip") != f.path.endswith(".gz"):
        problems.append(
            issue(
                f"{f.path}: compression {f.compression!r} does not match the file name "
                "(gzip exactly when the name ends in .gz)",
                f.filing_type,
            )
        )
    if f.compression == "gzip" and f.format == "parquet":
        problems.append(issue(f"{f.path}: gzip is allowed only for csv and jsonl", f.filing_type))
    return problems


@check("S013", claims=("encoding",))
def character_encoding(listed: ListedFile) -> list[Problem]:
    """Parquet and JSON Lines are UTF-8. (Bytes invalid in a CSV's declared encoding are an encoding
    failure, found when it is read.)"""
    f = listed.entry
    if f.format != "csv" and f.encoding != "utf-8":
        return [
            issue(
                f"{f.path}: {f.format} files are always UTF-8; remove encoding {f.encoding!r}", f.filing_type
            )
        ]
    return []


@check("S009", claims=("changed_while_read",))
def checksum(listed: ListedFile) -> list[Problem]:
    """The SHA-256 of the delivered bytes is the manifest's sha256 (X-11). (A file written to after it was
    hashed is changed_while_read.)"""
    f = listed.entry
    if listed.sha256 is not None and listed.sha256 != f.sha256:
        return [
            issue(
                f"{f.path}: SHA-256 of the delivered bytes is {listed.sha256}, the manifest "
                f"says {f.sha256}: the file changed after the manifest was made",
                f.filing_type,
                fields=[("sha256", listed.sha256)],
            )
        ]
    return []


@check("S008")
def no_unlisted_files(folder: Path, listed: set[Path]) -> list[Problem]:
    """The package folder holds only manifest.json and the files the manifest lists."""
    problems = []
    for entry in _walk(folder):
        if entry.name == "manifest.json" and entry.parent == folder:
            continue
        if entry in listed or entry.is_dir() and not entry.is_symlink():
            continue
        rel = printable(str(entry.relative_to(folder)))
        problems.append(
            issue(f"{rel} is in the package but not listed in the manifest: remove it or list it")
        )
    return problems


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            yield Path(root) / name


@check("S016")
def period_in_calendar(m: Manifest, clock: datetime) -> list[Problem]:
    """period is a month of the filing calendar, no later than 12 months after the clock's month."""
    bad = period_problem(m.period, ent_type_of(m.enterprise_id), clock)
    return [issue(bad)] if bad else []


# ------------------------------------------------------------------------------------------------------
# a file being read (pipelines/intake/readers.py: the first problem stops the read) and a staged file


@check("S014", claims=("header", "columns"))
def column_set(found: list[str], contract: Contract) -> list[Problem]:
    """The header (CSV) or schema (Parquet) holds exactly the contract's columns, each once, in any order.
    (No header row or one that cannot be read is a header failure, unknown JSON Lines keys a columns
    failure, found when the file is read.)"""
    expected = contract.column_names
    dupes = sorted({c for c in found if found.count(c) > 1})
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if extra:
        problems.append(f"unknown column(s) {', '.join(repr(_clip_name(c)) for c in extra[:10])}")
    if dupes:
        problems.append(f"repeated column(s) {', '.join(dupes)}")
    if problems:
        return [
            issue(
                f"{'; '.join(problems)}: the {contract.filing_type} file must have exactly the contract's columns"
            )
        ]
    return []


def _clip_name(name: str, width: int = 40) -> str:
    return name if len(name) <= width else name[:width] + "…"


@dataclass
class StagedCheck:
    """A file staged as text columns (temp table ``table``, ``rows`` data rows), with one lazy scan of
    its values."""

    con: duckdb.DuckDBPyConnection
    table: str
    rows: int
    contract: Contract
    entry: FileEntry

    @cached_property
    def scan(self) -> ValueScan:
        return scan_values(self.con, self.table, self.contract)

    def bad_columns(self) -> set[str]:
        return {name for name, count in self.scan.invalid.items() if count}


@check("S010")
def row_count(staged: StagedCheck) -> list[Problem]:
    """The number of data rows (header excluded) is the manifest's row_count (X-11)."""
    f = staged.entry
    if staged.rows != f.row_count:
        return [
            issue(
                f"{f.path}: {f.path} has {staged.rows} data rows but the manifest says row_count {f.row_count}",
                f.filing_type,
            )
        ]
    return []


@check("S015", claims=("value_type",))
def parsable_values(staged: StagedCheck) -> list[Problem]:
    """Every non-empty value parses as its contract type (the first rows of each column, with the count).
    (A Parquet float where money or a rate is due is a value_type failure, found when it is read.)"""
    f = staged.entry
    problems = []
    for name, count in staged.scan.invalid.items():
        if not count:
            continue
        col = staged.contract.column(name)
        for row, value in invalid_sample(staged.con, staged.table, staged.scan, name):
            what = (
                "contains a NUL byte: remove control characters"
                if "\x00" in value
                else f"is not a valid {col.type} ({col.kind.description})"
            )
            message = f"{name} = {value[:60]!r} {what}" + (f"; {count} rows in all" if count > 1 else "")
            problems.append(issue(f"{f.path}: {message}", f.filing_type, row, [(name, value)]))
    return problems


@check("S011")
def control_totals(staged: StagedCheck) -> list[Problem]:
    """The required control totals are given and equal their column's sum over all rows (X-11); a
    column with unparsable values is reported by S015 instead."""
    f, contract = staged.entry, staged.contract
    problems = []
    for total in contract.control_totals:
        declared = f.control_totals.get(total)
        if declared is None:
            problems.append(
                issue(
                    f"{f.path}: the manifest must give control_totals.{total} for {contract.filing_type}",
                    f.filing_type,
                )
            )
            continue
        if total in staged.bad_columns():
            continue  # already reported as unparsable values
        actual = staged.scan.totals[total]
        if Decimal(actual) != declared:
            problems.append(
                issue(
                    f"{f.path}: control total {total}: the file sums to {actual} but the manifest says {declared}",
                    f.filing_type,
                    fields=[(total, str(actual))],
                )
            )
    for name in f.control_totals:
        if name not in contract.control_totals:
            problems.append(
                issue(
                    f"{f.path}: control_totals.{name} is not a control total of {contract.filing_type}",
                    f.filing_type,
                )
            )
    return problems


# ------------------------------------------------------------------------------------------------------
# the delivery as a whole

claims("S017", "intake_error")


# ------------------------------------------------------------------------------------------------------
# the order the intake runs them


def check_files(pkg: Package, hashes: dict[str, str]) -> tuple[list[Problem], list[Problem]]:
    """The checks of the files a parsed manifest lists, each in turn (S007; then, for a path inside the
    package, S012, S013 and S009), and of the package folder (S008). Returns (the listed files' problems,
    the unlisted files')."""
    m = pkg.manifest
    assert m is not None
    problems: list[Problem] = []
    listed: set[Path] = set()
    for f in m.files:
        path = safe_path(pkg.folder, f.path)
        one = ListedFile(f, path, hashes.get(f.path))
        problems += listed_file_present(one)
        if path is None:
            continue
        listed.add(path)
        problems += format_and_compression(one) + character_encoding(one) + checksum(one)
    return problems, no_unlisted_files(pkg.folder, listed)


def check_staged(staged: StagedCheck) -> list[Problem]:
    """The checks of a staged file: row count (S010), values (S015), control totals (S011)."""
    return row_count(staged) + parsable_values(staged) + control_totals(staged)
