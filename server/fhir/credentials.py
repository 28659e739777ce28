"""A health system's client credentials: made by carewatch, kept as a digest."""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["new_credentials", "secret_digest", "secret_matches"]


def new_credentials() -> tuple[str, str]:
    """A fresh (client id, client secret) pair; the secret is shown once, never stored."""
    return f"hs-{secrets.token_hex(8)}", secrets.token_urlsafe(32)


def secret_digest(secret: str) -> str:
    """How a client secret is kept.

    Secrets are 256 random bits that carewatch makes, never chosen by a person,
    so SHA-256 is as strong here as a slow password hash, and a token request
    costs no argon2 time.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(digest: str | None, secret: str) -> bool:
    """Whether ``secret`` is the one behind ``digest`` (None: an unknown client), in constant time."""
    # Compared even for an unknown client, so the answer's timing says nothing.
    return hmac.compare_digest(digest or secret_digest(""), secret_digest(secret)) and bool(digest)
