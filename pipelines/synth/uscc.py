"""Making valid Unified Social Credit Codes for synthetic enterprises (the check itself lives in
pipelines.quality.uscc, shared with the validity rule V022)."""

from __future__ import annotations

from pipelines.quality.uscc import CHARSET, check_character


def make(region_code: str, serial: int, *, authority: str = "9", kind: str = "1") -> str:
    """A valid USCC: authority + kind + 6-digit region + 9-char organisation code + check character.

    The organisation code is 'MA' followed by `serial` in base 31 (7 characters), so distinct serials give
    distinct codes."""
    body = []
    n = serial
    for _ in range(7):
        n, r = divmod(n, 31)
        body.append(CHARSET[r])
    if n:
        raise ValueError(f"serial {serial} too large")
    first17 = f"{authority}{kind}{region_code}MA{''.join(reversed(body))}"
    return first17 + check_character(first17)
