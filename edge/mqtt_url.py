"""Broker URLs as carewatch writes them: ``mqtt://user:pass@host:1883`` or ``mqtts://…``."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

__all__ = ["broker_address"]


def broker_address(url: str) -> tuple[str, int, str | None, str | None, bool]:
    """Host, port, username, password and TLS from a broker URL.

    >>> broker_address("mqtts://hub-1:s3cret@broker.example:8883")
    ('broker.example', 8883, 'hub-1', 's3cret', True)
    """
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts"):
        raise ValueError(f"MQTT URL {url!r} must start with mqtt:// or mqtts://")
    tls = parts.scheme == "mqtts"
    return (
        parts.hostname or "127.0.0.1",
        parts.port or (8883 if tls else 1883),
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
        tls,
    )
