"""The voice provider's request signature (``X-Twilio-Signature``). Pure.

Twilio signs each callback: HMAC-SHA1, keyed with the account's auth token,
over the full URL it requested followed by every POST field's name and value
in the order of the names, base64-encoded. A callback whose signature does
not match did not come from the provider (or was changed on the way).

Written here, not taken from the ``twilio`` package: its
``RequestValidator`` is these few lines, and the package would bring
aiohttp, aiohttp-retry, requests and PyJWT into the server for them. The
check is against the example in Twilio's documentation:

>>> url = "https://mycompany.com/myapp.php?foo=1&bar=2"
>>> fields = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+14158675309"),
...           ("Digits", "1234"), ("From", "+14158675309"), ("To", "+18005551212")]
>>> request_signature("12345", url, fields)
'RSOYDt4T1cUTdK1PDd93/VVr8B8='
>>> signature_matches("12345", url, list(reversed(fields)), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
True
>>> signature_matches("12345", url, fields + [("Digits", "9")], "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
False
>>> signature_matches("12345", url, fields, "RSOYDt4T1cUTdK1PDd93/VVr8B8\u00e9")
False
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

__all__ = ["SIGNATURE_HEADER", "request_signature", "signature_matches"]

SIGNATURE_HEADER = "X-Twilio-Signature"

_DEFAULT_PORTS = {"http": 80, "https": 443}


def request_signature(auth_token: str, url: str, fields: Iterable[tuple[str, str]]) -> str:
    """The signature the provider sends for a POST of ``fields`` to ``url``.

    Names in order; a name given more than once contributes each of its
    distinct values in order, as Twilio's own libraries do.
    """
    values: dict[str, set[str]] = {}
    for name, value in fields:
        values.setdefault(name, set()).add(value)
    signed = url + "".join(
        name + value for name in sorted(values) for value in sorted(values[name])
    )
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _port_variants(url: str) -> tuple[str, ...]:
    """The URL as given and with its default port written or left out.

    Twilio's libraries accept either: what the provider signed depends on how
    the URL was written when the call was requested.

    >>> _port_variants("https://c.example.org/voice/t/key")
    ('https://c.example.org/voice/t/key', 'https://c.example.org:443/voice/t/key')
    >>> _port_variants("https://c.example.org:443/v")
    ('https://c.example.org:443/v', 'https://c.example.org/v')
    >>> _port_variants("http://127.0.0.1:8000/v")
    ('http://127.0.0.1:8000/v',)
    """
    parts = urlsplit(url)
    default = _DEFAULT_PORTS.get(parts.scheme)
    host = parts.hostname or ""
    if default is None or not host:
        return (url,)
    if parts.port is None:
        other = parts._replace(netloc=f"{parts.netloc}:{default}")
    elif parts.port == default:
        other = parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])
    else:
        return (url,)
    return (url, urlunsplit(other))


def signature_matches(
    auth_token: str, url: str, fields: Iterable[tuple[str, str]], signature: str | None
) -> bool:
    """Whether ``signature`` is the provider's for this request; a missing one never is."""
    if not signature:
        return False
    fields = list(fields)
    # As bytes: a header may hold any character, and compare_digest takes only ASCII text.
    given = signature.encode()
    return any(
        hmac.compare_digest(request_signature(auth_token, variant, fields).encode(), given)
        for variant in _port_variants(url)
    )
