"""Unified Social Credit Code (GB 32100-2015) check character, in Python and as a DuckDB SQL expression.

18 characters from ``0-9A-HJ-NPQRTUWXY``; the last is a check character over the first 17:
check = 31 - (sum(value(c_i) * w_i) mod 31), where 31 becomes 0, and value is the position in CHARSET.
The Python form is pipelines.filing_package.uscc's (the one implementation, re-exported here).
"""

from __future__ import annotations

from pipelines.filing_package.uscc import CHARSET, WEIGHTS
from pipelines.filing_package.uscc import check_character as check_character
from pipelines.filing_package.uscc import is_valid as is_valid


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
