"""USCC check character (GB 32100-2015) and the codes the generator makes."""

from __future__ import annotations

import pytest

from pipelines.filing_package import uscc
from pipelines.quality.uscc import CHARSET, WEIGHTS, check_character, is_valid


@pytest.mark.parametrize("code", ["91310115MA1K000190", "91440300MA5D000129"])
def test_examples_are_valid(code: str) -> None:
    assert check_character(code[:17]) == code[17]
    assert is_valid(code)


@pytest.mark.parametrize(
    "code", ["91310115MA1K000191", "91440300MA5D00012A", "9131011", "91310115MA1K0001I0"]
)
def test_wrong_codes_are_invalid(code: str) -> None:
    assert not is_valid(code)


def test_check_char_31_maps_to_0() -> None:
    # find a body whose weighted sum is a multiple of 31: then 31 - 0 = 31 -> '0'
    for serial in range(5000):
        code = uscc.make("310115", serial)
        body = code[:17]
        total = sum(CHARSET.index(c) * w for c, w in zip(body, WEIGHTS, strict=True))
        if total % 31 == 0:
            assert code[17] == "0"
            return
    pytest.fail("no body with a weighted sum divisible by 31 found")


def test_generated_codes_are_valid_and_distinct() -> None:
    codes = [uscc.make(region, serial) for region in ("310115", "440305") for serial in range(2000)]
    assert all(len(c) == 18 and is_valid(c) for c in codes)
    assert len(set(codes)) == len(codes)
    # one wrong character anywhere in the body breaks the check
    bad = codes[7][:5] + ("A" if codes[7][5] != "A" else "B") + codes[7][6:]
    assert not is_valid(bad)
