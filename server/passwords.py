"""Password hashing (argon2) and bearer-token generation."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["generate_password", "generate_token", "hash_password", "verify_password"]

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash to store."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """A random password for a machine account (a hub's MQTT login)."""
    return secrets.token_urlsafe(18)


def generate_token() -> str:
    """An opaque bearer token."""
    return secrets.token_urlsafe(32)
