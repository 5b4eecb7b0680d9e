"""Unified Social Credit Code (GB 32100-2015): the check character, validity, and making valid codes.

18 characters from ``0-9A-HJ-NPQRTUWXY``; the last is a check character over the first 17:
check = 31 - (sum(value(c_i) * w_i) mod 31), where 31 becomes 0, and value is the position in CHARSET.
The one Python implementation: the validity rule V022 (pipelines.quality.uscc, which adds the DuckDB SQL
form), the generator and the mappings all use it.
"""

from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str:
    """The check character for the first 17 characters (raises ValueError on a foreign character)."""
    if len(first17) != 17:
        raise ValueError("need the first 17 characters of a USCC")
    total = sum(CHARSET.index(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def is_valid(uscc: str | None) -> bool:
    if uscc is None or len(uscc) != 18 or any(ch not in CHARSET for ch in uscc):
        return False
    return uscc[17] == check_character(uscc[:17])


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
