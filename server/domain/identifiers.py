"""Identifiers other systems know a resident by."""

from __future__ import annotations

__all__ = ["normalise_nhs_number"]


def normalise_nhs_number(text: str) -> str:
    """Ten digits, spaces and dashes removed, with a valid check digit; else ValueError.

    The NHS's modulus 11 check: the first nine digits weighted 10 down to 2,
    11 minus the sum's remainder is the tenth (11 counts as 0; 10 is never issued).

    >>> normalise_nhs_number("943 476 5919")
    '9434765919'
    """
    digits = text.replace(" ", "").replace("-", "")
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        raise ValueError("an NHS number is ten digits, e.g. 943 476 5919")
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 10 or check % 11 != int(digits[9]):
        raise ValueError("that is not a valid NHS number: check the digits")
    return digits
