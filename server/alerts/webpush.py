"""Web Push to carers' phones (pywebpush, VAPID), one subscription per channel.

A channel of kind ``webpush`` holds the browser's subscription as JSON
(``{"endpoint": …, "keys": {"p256dh": …, "auth": …}}``); the payload is
encrypted for that browser and posted to its push service.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush
from requests.adapters import BaseAdapter

from server.alerts.notify import Delivery, run_blocking
from server.alerts.push_services import PUBLIC_PUSH_SERVICES, endpoint_refusal
from server.domain.contacts import Channel

__all__ = [
    "MAX_PUSH_SUBSCRIPTIONS",
    "WebPushSender",
    "application_server_key",
    "parse_subscription",
    "subscription_endpoint",
    "vapid_key",
]

# A person's browsers and phones; each is tried in turn before their other
# channels, so an unbounded list would also be an unbounded wait.
MAX_PUSH_SUBSCRIPTIONS = 10


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


def parse_subscription(text: str, *, hosts: Iterable[str]) -> dict[str, Any]:
    """A browser's push subscription, checked; ValueError says what is wrong.

    The endpoint must be on one of ``hosts`` (see :mod:`server.alerts.push_services`)
    and the keys the sizes browsers make (a P-256 point, a 16-byte secret), so
    that nothing stored can fail later in encryption.

    >>> point, secret = "B" + "A" * 86, "A" * 22
    >>> subscription = {"endpoint": "https://fcm.googleapis.com/fcm/send/x",
    ...                 "keys": {"p256dh": point, "auth": secret}}
    >>> parse_subscription(json.dumps(subscription), hosts=PUBLIC_PUSH_SERVICES)["endpoint"]
    'https://fcm.googleapis.com/fcm/send/x'
    >>> parse_subscription(json.dumps({**subscription, "endpoint": "https://10.0.0.5/"}),
    ...                    hosts=PUBLIC_PUSH_SERVICES)
    Traceback (most recent call last):
    ...
    ValueError: a push endpoint must be on a public push service (fcm.googleapis.com, updates.push.services.mozilla.com, web.push.apple.com, *.notify.windows.com), not 10.0.0.5
    """
    try:
        data = json.loads(text)
        endpoint, keys = data["endpoint"], data["keys"]
        p256dh, auth = keys["p256dh"], keys["auth"]
    except (ValueError, KeyError, TypeError):
        raise ValueError("a push subscription needs endpoint and keys.p256dh, keys.auth") from None
    if not all(isinstance(v, str) and v for v in (endpoint, p256dh, auth)):
        raise ValueError("a push subscription's endpoint and keys must be non-empty strings")
    refusal = endpoint_refusal(endpoint, hosts)
    if refusal is not None:
        raise ValueError(refusal)
    if _key_size(p256dh) != 65 or _key_size(auth) != 16:
        raise ValueError("a push subscription's keys must be a P-256 key and a 16-byte secret")
    return {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}


def _key_size(text: str) -> int:
    """The bytes in a base64url key, or -1 if it is not one."""
    if len(text) > 200:
        return -1
    try:
        return len(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except ValueError:
        return -1


def subscription_endpoint(address: str) -> str:
    """The endpoint of a stored subscription (not its keys), for showing which one it is."""
    try:
        return str(json.loads(address)["endpoint"])
    except (ValueError, KeyError, TypeError):
        return "a subscription that could not be read"


class _NoRedirects(requests.Session):
    """A session that never follows a redirect.

    A push service answers 201; a redirect can only send the server somewhere
    the endpoint check never saw (its own network), so it counts as a refusal.
    """

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        """Send once, whatever ``allow_redirects`` the caller asked for."""
        kwargs["allow_redirects"] = False
        return super().request(*args, **kwargs)


class WebPushSender:
    """Sends one encrypted notification to one browser.

    ``timeout_s`` bounds connecting to the push service and each read from it.
    Only endpoints on ``hosts`` are contacted, checked again at every send
    because a subscription stored before the check (or by hand) may name any
    URL. ``transport`` replaces the HTTP adapter (tests).

    What is recorded of a failure is the status code and its standard phrase,
    or the kind of network failure: never the reply's body or the endpoint,
    which the people reading the alert's trail must not see.
    """

    def __init__(
        self,
        key: Vapid02,
        *,
        subject: str,
        timeout_s: float = 4.0,
        hosts: Iterable[str] = PUBLIC_PUSH_SERVICES,
        transport: BaseAdapter | None = None,
    ) -> None:
        self._key = key
        self._claims = {"sub": subject}
        self._timeout = timeout_s
        self._hosts = tuple(hosts)
        self._transport = transport

    async def send(self, channel: Channel, *, title: str, body: str) -> Delivery:
        """Deliver once on a notification thread."""
        try:
            subscription = parse_subscription(channel.address, hosts=self._hosts)
        except ValueError as exc:
            return Delivery(False, f"not sent: {exc}; the person must subscribe again")
        payload = json.dumps({"title": title, "body": body})
        return await run_blocking(lambda: self._send(subscription, payload))

    def _session(self) -> requests.Session:
        session = _NoRedirects()
        if self._transport is not None:
            session.mount("https://", self._transport)
            session.mount("http://", self._transport)
        return session

    def _send(self, subscription: dict[str, Any], payload: str) -> Delivery:
        # One session per send: requests does not promise a session is safe
        # across the notification threads.
        with self._session() as session:
            try:
                webpush(
                    subscription,
                    payload,
                    vapid_private_key=self._key,
                    vapid_claims=dict(self._claims),
                    timeout=self._timeout,
                    ttl=3600,
                    requests_session=session,
                )
            except WebPushException as exc:
                return Delivery(False, _refused(exc.response))
            except requests.Timeout:
                return Delivery(False, f"push service did not answer within {self._timeout:g} s")
            except OSError:  # requests' ConnectionError and the rest; the text names the URL
                return Delivery(False, "push service unreachable")
            except ValueError:
                return Delivery(False, "the push subscription's keys could not be used")
        return Delivery(True)


def _refused(response: requests.Response | None) -> str:
    """The status and its standard phrase: the service's own words could be anything."""
    if response is None:
        return "push service refused the message"
    code = response.status_code
    try:
        phrase = HTTPStatus(code).phrase
    except ValueError:
        phrase = "unknown status"
    redirect = " (redirects are not followed)" if 300 <= code < 400 else ""
    return f"push service answered {code} {phrase}{redirect}"
