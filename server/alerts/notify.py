"""Delivering a notification through apprise: e-mail through the service's SMTP server,
SMS through the service's gateway, webhooks.

apprise is synchronous, so each delivery runs on a worker thread of the
notifications' own pool (:func:`run_blocking`): a mail server or webhook that
never answers holds one of those threads for at most its socket timeouts, and
never a thread that password hashing or the database driver needs. What
apprise logs about a failure becomes the attempt's recorded error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, TypeVar
from urllib.parse import quote, urlsplit

import apprise

from server.alerts.addresses import SMS_NUMBER
from server.domain.contacts import Channel

__all__ = [
    "AppriseNotifier",
    "ByChannelKind",
    "Delivery",
    "Notifier",
    "apprise_url",
    "run_blocking",
]

log = logging.getLogger(__name__)

_T = TypeVar("_T")

# Enough threads for every send the scheduler allows at once to have one, even
# while some wait out a dead peer's timeout.
_THREADS = ThreadPoolExecutor(max_workers=64, thread_name_prefix="carewatch-notify")


async def run_blocking(function: Callable[[], _T]) -> _T:
    """Run a blocking delivery on the notifications' own threads."""
    return await asyncio.get_running_loop().run_in_executor(_THREADS, function)


@dataclass(slots=True, frozen=True)
class Delivery:
    """How one attempt went."""

    ok: bool
    error: str | None = None
    # Not delivered, and nothing more to try: the alert was taken or closed
    # meanwhile (a call hung up for that), so the person is not tried again.
    settled: bool = False


class Notifier(Protocol):
    """Sends one message over one channel."""

    async def send(self, channel: Channel, *, title: str, body: str) -> Delivery:
        """Try once; never raises for a failed delivery."""
        ...


def apprise_url(channel: Channel, *, email_url: str | None, sms_url: str | None = None) -> str:
    """The apprise URL for a channel.

    ``email_url`` is the service's outgoing mail server in apprise form, e.g.
    ``mailtos://user:pass@smtp.example.org?from=alerts@example.org``; the
    contact's address is added as the recipient. ``sms_url`` is the SMS
    gateway's apprise URL with ``{to}`` where the number goes, e.g.
    ``twilio://SID:TOKEN@+441632960000/{to}``.

    >>> apprise_url(Channel("webhook", "https://hooks.example.org/carewatch?x=1"), email_url=None)
    'jsons://hooks.example.org/carewatch?x=1'
    >>> apprise_url(Channel("email", "amy@example.org"), email_url="mailto://127.0.0.1:25?from=a@b")
    'mailto://127.0.0.1:25?from=a@b&to=amy%40example.org'
    >>> apprise_url(Channel("sms", "+447700900123"), email_url=None,
    ...     sms_url="twilio://AC123:tok@+441632960000/{to}")
    'twilio://AC123:tok@+441632960000/%2B447700900123'
    """
    if channel.kind == "webhook":
        parts = urlsplit(channel.address)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"webhook {channel.address!r} must be an http:// or https:// URL")
        scheme = "jsons" if parts.scheme == "https" else "json"
        return f"{scheme}://{channel.address.split('://', 1)[1]}"
    if channel.kind == "email":
        if not email_url:
            raise ValueError("no outgoing mail server: set CAREWATCH_EMAIL_URL")
        joiner = "&" if "?" in email_url else "?"
        return f"{email_url}{joiner}to={quote(channel.address)}"
    if channel.kind == "sms":
        if not sms_url:
            raise ValueError("no SMS gateway: set CAREWATCH_SMS_URL")
        if SMS_NUMBER not in sms_url:
            raise ValueError(f"CAREWATCH_SMS_URL must hold {SMS_NUMBER} where the number goes")
        # Quoted: a bare "+" in a URL's query reads as a space.
        return sms_url.replace(SMS_NUMBER, quote(channel.address, safe=""))
    raise ValueError(f"unknown channel kind {channel.kind!r}")


class AppriseNotifier:
    """E-mail, SMS and webhooks through apprise.

    ``timeout_s`` bounds each socket step (connect, each read): apprise's own
    defaults are 4 s for webhooks but 15 s for SMTP, and a peer that accepts
    and never answers would otherwise hold a thread that long.
    """

    def __init__(
        self, *, email_url: str | None, sms_url: str | None = None, timeout_s: float = 4.0
    ) -> None:
        self._email_url = email_url
        self._sms_url = sms_url
        self._timeout_s = timeout_s

    async def send(self, channel: Channel, *, title: str, body: str) -> Delivery:
        """Deliver once on a notification thread."""
        try:
            url = apprise_url(channel, email_url=self._email_url, sms_url=self._sms_url)
        except ValueError as exc:
            return Delivery(False, str(exc))
        return await run_blocking(lambda: self._send(url, title, body))

    def _send(self, url: str, title: str, body: str) -> Delivery:
        plugin = apprise.Apprise.instantiate(url)
        if plugin is None:
            return Delivery(False, "apprise cannot use this address")
        plugin.socket_connect_timeout = self._timeout_s
        plugin.socket_read_timeout = self._timeout_s
        service = apprise.Apprise()
        if not service.add(plugin):
            return Delivery(False, "apprise cannot use this address")
        with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
            sent = bool(service.notify(title=title, body=body))
            problems = captured.getvalue().strip() if not sent else ""
        if sent:
            return Delivery(True)
        # The last line apprise logged is the most specific reason.
        reason = problems.splitlines()[-1].split(" - ", 2)[-1] if problems else "delivery failed"
        return Delivery(False, reason[:500])


class ByChannelKind:
    """Hands each channel to the notifier for its kind (e-mail, webhook, web push)."""

    def __init__(self, notifiers: Mapping[str, Notifier]) -> None:
        self._notifiers = dict(notifiers)

    async def send(self, channel: Channel, *, title: str, body: str) -> Delivery:
        """Deliver once through the notifier for ``channel.kind``."""
        notifier = self._notifiers.get(channel.kind)
        if notifier is None:
            return Delivery(False, f"this server cannot send {channel.kind!r} notifications")
        return await notifier.send(channel, title=title, body=body)
