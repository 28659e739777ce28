"""One-tap links: whatever token arrives, read_link answers a link or LinkRefused, never anything else.

A link is read from a URL anyone can type, so the token may be unsigned,
truncated, not base64, not UTF-8, or signed by the server and still odd
(an expiry past the year 9999, a user id of a hundred digits).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.alerts.links import AckLink, LinkRefused, make_link, read_link

KEY = b"k" * 32
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed(payload: bytes) -> str:
    return f"{_b64(payload)}.{_b64(hmac.new(KEY, payload, hashlib.sha256).digest())}"


def _read(token: str) -> AckLink | None:
    """The link, or None when refused; anything else raised fails the test."""
    try:
        return read_link(KEY, token, now=NOW)
    except LinkRefused:
        return None


fields = st.one_of(
    st.text(max_size=40),
    st.integers().map(str),
    st.uuids().map(str),
    st.sampled_from(["99999999999999999999", "-99999999999999999999", "253402300800", "-1", ""]),
)


@given(st.text(max_size=200))
def test_any_text_is_a_link_or_refused(token: str) -> None:
    _read(token)


@given(st.binary(max_size=120), st.binary(max_size=40))
def test_any_unsigned_bytes_are_refused(payload: bytes, signature: bytes) -> None:
    assert _read(f"{_b64(payload)}.{_b64(signature)}") is None


@given(st.lists(fields, min_size=0, max_size=6))
def test_unsigned_fields_of_any_value_are_refused(parts: list[str]) -> None:
    payload = ":".join(parts).encode("utf-8", "surrogatepass")
    assert _read(f"{_b64(payload)}.{_b64(b'not the signature')}") is None


@given(st.lists(fields, min_size=0, max_size=6))
def test_signed_fields_of_any_value_are_a_link_or_refused(parts: list[str]) -> None:
    link = _read(_signed(":".join(parts).encode("utf-8", "surrogatepass")))
    assert link is None or link.expires_at > NOW


@pytest.mark.parametrize(
    "expires", ["99999999999999999999", "253402300800", "-99999999999999999999", "1e9"]
)
@pytest.mark.parametrize("signed", [False, True])
def test_an_absurd_expiry_is_refused_as_not_valid(expires: str, signed: bool) -> None:
    payload = f"{uuid.uuid4()}:3:{expires}:nonce".encode()
    token = _signed(payload) if signed else f"{_b64(payload)}.{_b64(b'x' * 32)}"
    with pytest.raises(LinkRefused, match="not valid"):
        read_link(KEY, token, now=NOW)


def test_a_genuine_link_still_reads() -> None:
    alert = uuid.uuid4()
    token = make_link(KEY, alert, user_id=3, expires_at=NOW + timedelta(hours=2), nonce="n1")
    assert read_link(KEY, token, now=NOW) == AckLink(alert, 3, NOW + timedelta(hours=2), "n1")
