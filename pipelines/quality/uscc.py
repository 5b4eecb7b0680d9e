"""Unified Social Credit Code (GB 32100-2015) check character, in Python and as a DuckDB SQL expression.

18 characters from ``0-9A-HJ-NPQRTUWXY``; the last is a check character over the first 17:
check = 31 - (sum(value(c_i) * w_i) mod 31), where 31 becomes 0, and value is the position in CHARSET.
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


def sql_is_valid(col: str) -> str:
    """A DuckDB boolean expression: ``col`` is a well-formed USCC with the right check character."""
    weights = ", ".join(str(w) for w in WEIGHTS)
    total = (
        f"list_sum(list_transform(range(17), lambda i: "
        f"(instr('{CHARSET}', substr({col}, i + 1, 1)) - 1) * [{weights}][i + 1]))"
    )
    return (
        f"(length({col}) = 18 and regexp_full_match({col}, '[{CHARSET}]{{18}}') "
        f"and substr({col}, 18, 1) = substr('{CHARSET}', cast((31 - {total} % 31) % 31 + 1 as bigint), 1))"
    )
