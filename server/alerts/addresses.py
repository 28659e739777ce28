"""Checking where a person may be reached: phone numbers (E.164), e-mail, webhooks. Pure.

A number is stored as E.164 (``+447400123456``), whatever way it was typed:
SMS gateways and voice providers want that form, and two spellings of one
phone must be one channel. Numbers without a country code are read in the
service's own region.

>>> checked_address("sms", "07400 123456", region="GB")
'+447400123456'
>>> checked_address("voice", "+44 (0)20 7946 0018", region="GB")
'+442079460018'
>>> checked_address("sms", "12345", region="GB")
Traceback (most recent call last):
...
ValueError: '12345' is not a phone number in use in GB: give it as a UK number (0113 496 0000) or with its country code (+44 113 496 0000)
>>> checked_address("email", "amy@example.org", region="GB")
'amy@example.org'
"""

from __future__ import annotations

from server.phones import phone_number

__all__ = ["CHANNEL_KINDS", "PHONE_KINDS", "SMS_NUMBER", "checked_address"]

# Where the recipient's number goes in CAREWATCH_SMS_URL.
SMS_NUMBER = "{to}"

# Kinds a person can be given by hand; Web Push subscriptions come from a browser.
CHANNEL_KINDS = ("email", "webhook", "sms", "voice")
PHONE_KINDS = frozenset({"sms", "voice"})


def checked_address(kind: str, address: str, *, region: str) -> str:
    """The address to store for a channel of ``kind``, or ValueError saying what is wrong."""
    address = address.strip()
    if kind in PHONE_KINDS:
        return phone_number(address, region=region)
    if kind == "email":
        local, at, domain = address.rpartition("@")
        if not at or not local or "." not in domain or any(c.isspace() for c in address):
            raise ValueError(f"{address!r} is not an e-mail address (like amy@example.org)")
        return address
    if kind == "webhook":
        if not address.startswith(("http://", "https://")):
            raise ValueError(f"webhook {address!r} must be an http:// or https:// URL")
        return address
    raise ValueError(f"a channel is one of {', '.join(CHANNEL_KINDS)}, not {kind!r}")
