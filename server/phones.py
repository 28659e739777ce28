"""Phone numbers as people type them, checked and kept in one form (E.164) with Google's libphonenumber.

A UK service's staff type national numbers (``0113 496 0000``, ``020 7946 0000``);
a number with a ``+`` and country code is taken as given. Stored as E.164, so a
``tel:`` link dials the same number from any phone; shown in the national
format for UK numbers, international otherwise.

>>> phone_number("0113 496 0123")
'+441134960123'
>>> phone_display("+441134960123")
'0113 496 0123'
>>> tel_uri("+441134960123")
'tel:+441134960123'
>>> phone_number("12345")
Traceback (most recent call last):
...
ValueError: '12345' is not a phone number in use in GB: give it as a UK number (0113 496 0000) or with its country code (+44 113 496 0000)
"""

from __future__ import annotations

import phonenumbers

__all__ = ["DEFAULT_REGION", "phone_display", "phone_number", "tel_uri"]

# Numbers without a country code are read as UK numbers.
DEFAULT_REGION = "GB"


def phone_number(text: str, *, region: str = DEFAULT_REGION) -> str:
    """``text`` as an E.164 number; ValueError saying how to write it if it is not a valid one."""
    problem = f"{text!r} is not a phone number in use in {region}: give it {_how(region)}"
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValueError(problem) from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(problem)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _how(region: str) -> str:
    """An example of a number written so it is understood, in the region's own form."""
    if region == "GB":
        return "as a UK number (0113 496 0000) or with its country code (+44 113 496 0000)"
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        return "with its country code, e.g. +44 113 496 0000"
    written = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return f"with its country code, e.g. {written}"


def phone_display(e164: str, *, region: str = DEFAULT_REGION) -> str:
    """How a stored number is read out: national for the service's own country, else international."""
    parsed = phonenumbers.parse(e164, None)
    if phonenumbers.region_code_for_number(parsed) == region:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def tel_uri(e164: str) -> str:
    """The RFC 3966 link that dials the number in one click."""
    parsed = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.RFC3966).replace(
        "-", ""
    )
