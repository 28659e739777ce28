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
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["AckLink", "LinkRefused", "make_link", "read_link"]


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
    """The link's meaning if it is genuine and not expired, else :class:`LinkRefused`."""
    try:
        encoded, signature = token.split(".", 1)
        payload = _unb64(encoded)
        valid = hmac.compare_digest(
            hmac.new(key, payload, hashlib.sha256).digest(), _unb64(signature)
        )
        alert, user, expires, nonce = payload.decode().split(":", 3)
        link = AckLink(
            uuid.UUID(alert), int(user), datetime.fromtimestamp(int(expires), UTC), nonce
        )
    except (ValueError, UnicodeDecodeError):
        raise LinkRefused("this link is not valid") from None
    if not valid:
        raise LinkRefused("this link is not valid")
    if now >= link.expires_at:
        raise LinkRefused("this link has expired; open the console to acknowledge the alert")
    return link
