"""Web Push to carers' phones (pywebpush, VAPID), one subscription per channel.

A channel of kind ``webpush`` holds the browser's subscription as JSON
(``{"endpoint": …, "keys": {"p256dh": …, "auth": …}}``); the payload is
encrypted for that browser and posted to its push service.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush

from server.alerts.ladder import Channel
from server.alerts.notify import Delivery, run_blocking

__all__ = [
    "MAX_PUSH_SUBSCRIPTIONS",
    "WebPushSender",
    "application_server_key",
    "parse_subscription",
    "vapid_key",
]

# A person's browsers and phones; each is tried in turn before their other
# channels, so an unbounded list would also be an unbounded wait.
MAX_PUSH_SUBSCRIPTIONS = 10

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def vapid_key(private_pem: str | None) -> Vapid02:
    """The server's VAPID key from PEM, or a new one (subscriptions then last until restart)."""
    if private_pem:
        return Vapid02.from_pem(private_pem.encode())
    key = Vapid02()
    key.generate_keys()
    return key


def application_server_key(key: Vapid02) -> str:
    """The public key browsers pass to ``pushManager.subscribe``, base64url."""
    raw = key.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def parse_subscription(text: str) -> dict[str, Any]:
    """A browser's push subscription, checked; ValueError says what is wrong.

    >>> parse_subscription('{"endpoint": "https://push.example/x", "keys": {"p256dh": "a", "auth": "b"}}')["endpoint"]
    'https://push.example/x'
    """
    try:
        data = json.loads(text)
        endpoint, keys = data["endpoint"], data["keys"]
        p256dh, auth = keys["p256dh"], keys["auth"]
    except (ValueError, KeyError, TypeError):
        raise ValueError("a push subscription needs endpoint and keys.p256dh, keys.auth") from None
    if not all(isinstance(v, str) and v for v in (endpoint, p256dh, auth)):
        raise ValueError("a push subscription's endpoint and keys must be non-empty strings")
    parts = urlsplit(endpoint)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS):
        raise ValueError("a push endpoint must be an https:// URL")
    return {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}


class WebPushSender:
    """Sends one encrypted notification to one browser.

    ``timeout_s`` bounds connecting to the push service and each read from it.
    """

    def __init__(self, key: Vapid02, *, subject: str, timeout_s: float = 4.0) -> None:
        self._key = key
        self._claims = {"sub": subject}
        self._timeout = timeout_s

    async def send(self, channel: Channel, *, title: str, body: str) -> Delivery:
        """Deliver once on a notification thread."""
        try:
            subscription = parse_subscription(channel.address)
        except ValueError as exc:
            return Delivery(False, str(exc))
        payload = json.dumps({"title": title, "body": body})
        return await run_blocking(lambda: self._send(subscription, payload))

    def _send(self, subscription: dict[str, Any], payload: str) -> Delivery:
        try:
            webpush(
                subscription,
                payload,
                vapid_private_key=self._key,
                vapid_claims=dict(self._claims),
                timeout=self._timeout,
                ttl=3600,
            )
        except WebPushException as exc:
            return Delivery(False, f"push service refused: {exc}"[:500])
        except OSError as exc:
            return Delivery(False, f"push service unreachable: {exc}"[:500])
        return Delivery(True)
