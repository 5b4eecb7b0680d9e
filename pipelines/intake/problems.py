"""What the S checks report: a :class:`Problem` (one finding of an S rule) and the read failures
(:data:`Failure`) that the one-pass readers, the manifest parser and the intake raise.

No module of the intake writes an S rule id: a check registered in :mod:`pipelines.intake.syntax` stamps
its own rule id on the problems it returns (:func:`issue` builds them without one), and a read failure
names its kind, which exactly one S rule claims (:func:`problem`, ``pipelines.quality.rules.claimed_by``;
``tests/unit/test_catalog_syntax.py`` checks every kind is claimed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from pipelines.quality.rules import claimed_by

# The failures found while reading (each claimed by one S rule in pipelines/intake/syntax.py).
Failure = Literal[
    "manifest_unreadable",  # manifest.json not a regular file, too large, unreadable, nested too deeply
    "not_a_package",  # a link, a loose file or a folder directly in landing/
    "misplaced",  # a folder not named after a submission id of its enterprise folder
    "id_reused",  # a submission id already used, with different bytes
    "changed_while_read",  # a listed file written to after it was hashed
    "format",  # the file does not decompress or parse in its declared format
    "encoding",  # bytes invalid in the declared encoding
    "header",  # no header row, or one that cannot be read
    "columns",  # the header or schema does not hold exactly the contract's columns
    "value_type",  # a Parquet column typed as a float where the contract says money or rate
    "intake_error",  # the intake failed unexpectedly on the delivery
]


@dataclass
class Problem:
    rule_id: str
    message: str
    filing_type: str | None = None
    row_number: int | None = None
    fields: list[tuple[str, object]] = field(default_factory=list)


def issue(
    message: str,
    filing_type: str | None = None,
    row_number: int | None = None,
    fields: list[tuple[str, object]] | None = None,
) -> Problem:
    """A problem as a registered check returns it: the check's registration stamps its rule id."""
    return Problem("", message, filing_type, row_number, list(fields or ()))


def problem(
    kind: Failure,
    message: str,
    filing_type: str | None = None,
    row_number: int | None = None,
    fields: list[tuple[str, object]] | None = None,
) -> Problem:
    """A read failure as a problem of the S rule that claims ``kind``."""
    return Problem(rule_claiming(kind), message, filing_type, row_number, list(fields or ()))


def rule_claiming(kind: Failure) -> str:
    return claimed_by()[kind]


def printable(name: str) -> str:
    """A name as valid UTF-8 text: bytes that were not UTF-8 (surrogate escapes) as \\xNN, other lone
    surrogates as \\uXXXX and control characters as \\xNN, the rest unchanged."""
    return _UNPRINTABLE.sub(_escape, name)


def _escape(m: re.Match) -> str:
    c = ord(m.group())
    return (
        f"\\x{c - 0xDC00:02x}" if 0xDC80 <= c <= 0xDCFF else (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}")
    )


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
