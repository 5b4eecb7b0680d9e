"""A party's id_hash (spec/filings.md, parties.id_hash): lowercase hex HMAC-SHA256 of
``<id_type>:<identifier>`` with the identifier trimmed and upper-cased; id_type ∈ {CN_ID, USCC,
PASSPORT-<country>}. Making up the identifiers themselves is the generator's business (pipelines.synth.identity)."""

from __future__ import annotations

import hashlib
import hmac

# The key the generator and the mappings sign with (the warehouse-wide salt of the packages they write).
SALT = b"suptech-synth-salt-v1"


def id_hash(id_type: str, identifier: str) -> str:
    msg = f"{id_type}:{identifier.strip().upper()}".encode()
    return hmac.new(SALT, msg, hashlib.sha256).hexdigest()
