"""manifest.json: its JSON Schema (derived from the contracts) and parsing into a Manifest."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from pipelines.contracts import FILING_TYPES
from pipelines.intake.problems import Failure, Problem, rule_claiming

SUPPORTED_SPEC_VERSIONS = ("1.0",)
MANIFEST_NAME = "manifest.json"
MAX_MANIFEST_BYTES = 1_000_000
MAX_VERSION = 2**31 - 1  # intake.submissions.version is an INTEGER
MAX_INT = 2**63 - 1  # row counts are BIGINT


@cache
def manifest_schema() -> dict:
    money = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,2})?$"}
    file_entry = {
        "type": "object",
        "additionalProperties": False,
        "required": ["filing_type", "path", "format", "sha256", "row_count"],
        "properties": {
            "filing_type": {"type": "string", "enum": list(FILING_TYPES)},
            "path": {"type": "string", "minLength": 1, "maxLength": 255},
            "format": {"enum": ["csv", "parquet", "jsonl"]},
            "compression": {"enum": ["none", "gzip"]},
            "encoding": {"enum": ["utf-8", "gbk", "gb18030"]},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "row_count": {"type": "integer", "minimum": 0, "maximum": MAX_INT},
            "control_totals": {"type": "object", "additionalProperties": money},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "required": [
            "spec_version",
            "submission_id",
            "enterprise_id",
            "period",
            "version",
            "supersedes",
            "submitted_at",
            "files",
        ],
        "properties": {
            "spec_version": {"type": "string"},
            "submission_id": {"type": "string", "pattern": r"^[A-Z0-9]+-[0-9]{4}-[0-9]{2}-v[0-9]+$"},
            "enterprise_id": {"type": "string", "pattern": r"^(PAY|P2P|CF|WM)[0-9]{4}$"},
            "period": {"type": "string", "pattern": r"^[0-9]{4}-(0[1-9]|1[0-2])$"},
            "version": {"type": "integer", "minimum": 1, "maximum": MAX_VERSION},
            "supersedes": {"type": ["string", "null"]},
            "submitted_at": {
                "type": "string",
                "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})$",
            },
            "files": {"type": "array", "items": file_entry},
        },
    }


@dataclass(frozen=True)
class FileEntry:
    filing_type: str
    path: str
    format: str
    compression: str
    encoding: str
    sha256: str
    row_count: int
    control_totals: dict[str, Decimal]


@dataclass(frozen=True)
class Manifest:
    spec_version: str
    submission_id: str
    enterprise_id: str
    period: str
    version: int
    supersedes: str | None
    submitted_at: datetime
    files: tuple[FileEntry, ...]
    raw: dict


class ManifestError(ValueError):
    """A manifest that cannot be used: a failure while reading it (its kind is claimed by an S rule), or
    the first problem of the S checks of its bytes and content (pipelines/intake/syntax.py)."""

    def __init__(self, kind: Failure | None, message: str, *, rule_id: str | None = None):
        super().__init__(message)
        self.kind = kind
        self._rule_id = rule_id

    @classmethod
    def found(cls, problem: Problem) -> ManifestError:
        return cls(None, problem.message, rule_id=problem.rule_id)

    @property
    def rule_id(self) -> str:
        if self._rule_id is not None:
            return self._rule_id
        assert self.kind is not None
        return rule_claiming(self.kind)

    @property
    def unreadable(self) -> bool:
        """The manifest cannot be read as JSON (S001): treated as absent during the grace period."""
        return self.rule_id == rule_claiming("manifest_unreadable")


def read_manifest_bytes(path: Path) -> bytes:
    if path.is_symlink() or not path.is_file():
        raise ManifestError("manifest_unreadable", "manifest.json is not a regular file")
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise ManifestError("manifest_unreadable", f"manifest.json is larger than {MAX_MANIFEST_BYTES} bytes")
    return path.read_bytes()


MAX_MESSAGE = 300  # a finding quotes the input, it does not dump it


def clip(text: str, width: int = MAX_MESSAGE) -> str:
    return text if len(text) <= width else text[:width] + "…"


def first_surrogate(doc: object) -> tuple[str, str] | None:
    """The first string (key or value) holding a lone surrogate (a \\udXXX escape that is no pair), with
    its JSON path: it cannot be stored as UTF-8. Iterative: a manifest may nest deeply."""
    stack: list[tuple[str, object]] = [("(top level)", doc)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, dict):
            items = list(node.items())
        elif isinstance(node, list):
            items = list(enumerate(node))
        else:
            if isinstance(node, str) and _SURROGATE.search(node):
                return where, node
            continue
        for key, value in items:
            path = str(key) if where == "(top level)" else f"{where}/{key}"
            if isinstance(key, str) and _SURROGATE.search(key):
                return where, key
            stack.append((path, value))
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_manifest(data: bytes) -> Manifest:
    """Parse and check manifest bytes (S001, S002, S003); raises ManifestError with the first problem."""
    try:
        return _parse(data)
    except RecursionError:
        raise ManifestError(
            "manifest_unreadable", "manifest.json is nested too deeply to be a manifest"
        ) from None


def parse_submitted_at(text: str) -> datetime:
    """submitted_at as a datetime (ValueError or OverflowError when it is no valid date and time)."""
    submitted_at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    submitted_at.astimezone(UTC)  # an offset may push it past year 9999
    return submitted_at


def _parse(data: bytes) -> Manifest:
    from pipelines.intake import syntax  # late: the S checks import this module

    for problem in syntax.manifest_is_json(data):
        raise ManifestError.found(problem)
    doc = json.loads(data.decode("utf-8-sig"))
    for problem in syntax.manifest_follows_schema(doc) or syntax.supported_spec_version(doc):
        raise ManifestError.found(problem)
    submitted_at = parse_submitted_at(doc["submitted_at"])
    files = tuple(
        FileEntry(
            filing_type=f["filing_type"],
            path=f["path"],
            format=f["format"],
            compression=f.get("compression", "none"),
            encoding=f.get("encoding", "utf-8"),
            sha256=f["sha256"],
            row_count=f["row_count"],
            control_totals={k: Decimal(v) for k, v in (f.get("control_totals") or {}).items()},
        )
        for f in doc["files"]
    )
    return Manifest(
        spec_version=doc["spec_version"],
        submission_id=doc["submission_id"],
        enterprise_id=doc["enterprise_id"],
        period=doc["period"],
        version=doc["version"],
        supersedes=doc["supersedes"],
        submitted_at=submitted_at,
        files=files,
        raw=doc,
    )
