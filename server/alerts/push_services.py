"""Which Web Push endpoints the server will post to: the public push services only. Pure.

A browser's subscription names the URL the server posts to, and the browser
is whoever signed in: without a check, anyone with an account could make the
server post to its own loopback, the database's host or a cloud metadata
address, and read the reply in the alert's trail. Real browsers only ever
hand out endpoints of a few public services, so those are all that is
allowed, over https on the default port.

>>> endpoint_refusal("https://fcm.googleapis.com/fcm/send/abc", PUBLIC_PUSH_SERVICES) is None
True
>>> endpoint_refusal("https://wns2-par02p.notify.windows.com/w/?token=x", PUBLIC_PUSH_SERVICES)
>>> endpoint_refusal("http://127.0.0.1:5432/", PUBLIC_PUSH_SERVICES)
'a push endpoint must be an https:// URL'
>>> endpoint_refusal("https://169.254.169.254/latest", PUBLIC_PUSH_SERVICES)
'a push endpoint must be on a public push service (fcm.googleapis.com, updates.push.services.mozilla.com, web.push.apple.com, *.notify.windows.com), not 169.254.169.254'

An entry with a scheme allows that scheme and host on any port: a test's
local receiver, never a production setting.

>>> endpoint_refusal("http://127.0.0.1:8123/push", ("http://127.0.0.1",)) is None
True
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["MAX_ENDPOINT_LENGTH", "PUBLIC_PUSH_SERVICES", "endpoint_refusal"]

# The push services of Chrome, Edge's Chromium and Android (FCM), Firefox
# (Mozilla autopush), Safari (Apple) and Windows' notification service.
PUBLIC_PUSH_SERVICES: tuple[str, ...] = (
    "fcm.googleapis.com",
    "updates.push.services.mozilla.com",
    "web.push.apple.com",
    "*.notify.windows.com",
)

# Real endpoints are a few hundred characters; a longer one is not a browser's.
MAX_ENDPOINT_LENGTH = 2_048


def endpoint_refusal(endpoint: str, allowed: Iterable[str]) -> str | None:
    """Why the server will not post to ``endpoint``, or None if it is on an allowed service.

    ``allowed`` holds host names (``fcm.googleapis.com``), ``*.`` suffixes
    (one or more labels before it) or, for tests, ``scheme://host`` entries.
    """
    allowed = tuple(allowed)
    if len(endpoint) > MAX_ENDPOINT_LENGTH:
        return f"a push endpoint must be at most {MAX_ENDPOINT_LENGTH} characters"
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return "a push endpoint must be a URL"
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return "a push endpoint must be a URL"
    # user:pass@ in front of the host is how an allowed-looking URL hides another.
    if parts.username is not None or parts.password is not None:
        return "a push endpoint must not carry a user name or password"
    if any(_explicit(entry, parts.scheme, host) for entry in allowed):
        return None
    if parts.scheme != "https":
        return "a push endpoint must be an https:// URL"
    if port not in (None, 443):
        return "a push endpoint must use the default https port"
    if any(_matches(entry.lower(), host) for entry in allowed if "://" not in entry):
        return None
    services = ", ".join(e for e in allowed if "://" not in e) or "none configured"
    return f"a push endpoint must be on a public push service ({services}), not {host}"


def _matches(entry: str, host: str) -> bool:
    if entry.startswith("*."):
        suffix = entry[1:]
        return host.endswith(suffix) and len(host) > len(suffix)
    return host == entry


def _explicit(entry: str, scheme: str, host: str) -> bool:
    """A ``scheme://host`` entry: that scheme and host, any port."""
    if "://" not in entry:
        return False
    allowed = urlsplit(entry.lower())
    return allowed.scheme == scheme and (allowed.hostname or "") == host
