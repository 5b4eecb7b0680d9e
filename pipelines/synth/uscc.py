"""Unified Social Credit Code (GB 32100-2015): check character and generation."""

from __future__ import annotations

CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(CHARS)}


def check_char(first17: str) -> str:
    """The 18th character for the first 17: 31 - (sum of value x weight mod 31), 31 -> 0."""
    if len(first17) != 17 or any(c not in _VALUE for c in first17):
        raise ValueError(f"not 17 USCC characters: {first17!r}")
    v = 31 - sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True)) % 31
    return CHARS[0 if v == 31 else v]


def is_valid(uscc: str) -> bool:
    if len(uscc) != 18 or any(c not in _VALUE for c in uscc):
        return False
    return check_char(uscc[:17]) == uscc[17]


def make(region_code: str, serial: int, *, authority: str = "9", kind: str = "1") -> str:
    """A valid USCC: authority + kind + 6-digit region + 9-char organisation code + check character.

    The organisation code is 'MA' followed by `serial` in base 31 (7 characters), so distinct serials give
    distinct codes."""
    body = []
    n = serial
    for _ in range(7):
        n, r = divmod(n, 31)
        body.append(CHARS[r])
    if n:
        raise ValueError(f"serial {serial} too large")
    first17 = f"{authority}{kind}{region_code}MA{''.join(reversed(body))}"
    return first17 + check_char(first17)
