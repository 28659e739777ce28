"""One-tap acknowledge links: signed, expiring, for one alert and one person. Pure.

The signature proves the server made the link; that it works only once is
kept in the database (``ack_links``), keyed by the link's nonce.

>>> import uuid
>>> from datetime import UTC, datetime, timedelta
>>> now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
>>> alert = uuid.UUID(int=7)
>>> link = make_link(b"k" * 32, alert, user_id=3, expires_at=now + timedelta(hours=1), nonce="n1")
>>> read_link(b"k" * 32, link, now=now) == AckLink(alert, 3, now + timedelta(hours=1), "n1")
True
>>> read_link(b"other key 000000000000000000000", link, now=now)
Traceback (most recent call last):
...
server.alerts.links.LinkRefused: this link is not valid
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["AckLink", "LinkRefused", "make_link", "read_link"]

_MAX_ID = 2**63 - 1
# 2100-01-01: later than any link's expiry, well inside every platform's time_t.
_MAX_EXPIRY = 4_102_444_800
# What secrets.token_urlsafe makes (escalation's nonces), and no NUL for PostgreSQL.
_NONCE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class LinkRefused(ValueError):
    """The link is forged, damaged or expired; the message says which for the person."""


@dataclass(slots=True, frozen=True)
class AckLink:
    """What a valid link stands for."""

    alert_id: uuid.UUID
    user_id: int
    expires_at: datetime
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_link(
    key: bytes, alert_id: uuid.UUID, *, user_id: int, expires_at: datetime, nonce: str
) -> str:
    """The token to put in a link."""
    payload = f"{alert_id}:{user_id}:{int(expires_at.timestamp())}:{nonce}".encode()
    signature = hmac.new(key, payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(signature)}"


def read_link(key: bytes, token: str, *, now: datetime) -> AckLink:
    """The link's meaning if it is genuine and not expired, else :class:`LinkRefused`.

    Anyone can type a token into the URL, so nothing in it is parsed until its
    signature holds, and even a signed one is range-checked: every failure is
    the same refusal, never an error of the page.

    >>> read_link(b"k" * 32, "bm90LWEtbGluaw.eA", now=datetime(2026, 1, 1, tzinfo=UTC))
    Traceback (most recent call last):
    ...
    server.alerts.links.LinkRefused: this link is not valid
    """
    link = _parse(key, token)
    if link is None:
        raise LinkRefused("this link is not valid")
    if now >= link.expires_at:
        raise LinkRefused("this link has expired; open the console to acknowledge the alert")
    return link


def _parse(key: bytes, token: str) -> AckLink | None:
    """The signed link in ``token``, or None for anything else."""
    try:
        encoded, signature = token.split(".", 1)
        payload, sent = _unb64(encoded), _unb64(signature)
    except ValueError:  # not base64 (binascii.Error), non-ASCII, no dot
        return None
    if not hmac.compare_digest(hmac.new(key, payload, hashlib.sha256).digest(), sent):
        return None
    try:
        alert, user, expires, nonce = payload.decode("ascii").split(":", 3)
        user_id, expiry = int(user), int(expires)
        alert_id = uuid.UUID(alert)
    except ValueError:  # UnicodeDecodeError is one
        return None
    # The server signs user ids of the database (bigint) and expiries of hours
    # from now; a signed token outside those was never made here, and
    # fromtimestamp would raise OverflowError or OSError for it.
    if not (0 < user_id <= _MAX_ID and 0 < expiry < _MAX_EXPIRY) or not _NONCE.fullmatch(nonce):
        return None
    return AckLink(alert_id, user_id, datetime.fromtimestamp(expiry, UTC), nonce)
