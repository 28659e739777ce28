"""How the store keeps a bearer secret (API token, session id, health system's token).

Only a digest is stored, so a copy of the database gives nobody a way in.
Every such secret is a long random string (``secrets.token_urlsafe``), not a
password a person chose, so one SHA-256 is enough: there is nothing to guess
that a slow hash would protect.
"""

from __future__ import annotations

import hashlib

__all__ = ["token_digest"]


def token_digest(token: str) -> bytes:
    """The digest kept in place of ``token``."""
    return hashlib.sha256(token.encode()).digest()
