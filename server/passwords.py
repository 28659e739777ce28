"""Password hashing (argon2) and bearer-token generation.

argon2 is slow on purpose (about 0.1 s of CPU and 64 MiB a check), so the
server never runs it on the event loop: :class:`PasswordWork` hands it to a few
threads of its own, and a flood of sign-ins waits its turn instead of stalling
alarms or taking the threads that notifications are sent from.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "PasswordWork",
    "generate_password",
    "generate_token",
    "hash_password",
    "verify_password",
]

_hasher = PasswordHasher()
_T = TypeVar("_T")


def hash_password(password: str) -> str:
    """An argon2id hash to store (blocking: call it off the event loop, or from a command)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash (blocking, like :func:`hash_password`)."""
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


class PasswordWork:
    """Hash and check passwords on ``threads`` threads of their own, never on the event loop.

    Open it in the server's start and :meth:`close` it at stop. ``done`` counts
    the argon2 runs, for metrics and tests.
    """

    def __init__(self, *, threads: int = 1) -> None:
        if threads < 1:
            raise ValueError("PasswordWork needs at least one thread")
        # The semaphore queues callers as coroutines (cancelled with their request)
        # rather than as executor jobs that would run after the client has gone.
        self._slots = asyncio.Semaphore(threads)
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="argon2")
        self.done = 0
        self._stand_in: str | None = None

    async def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches the stored hash."""
        return await self._run(verify_password, password_hash, password)

    async def verify_nobody(self, password: str) -> bool:
        """The same work as :meth:`verify`, for a username with no account (always False).

        Sign-in then takes as long whether or not the account exists, so its
        timing does not tell a guesser which usernames are real.
        """
        if self._stand_in is None:
            self._stand_in = await self.hash(generate_token())
        await self.verify(self._stand_in, password)
        return False

    async def hash(self, password: str) -> str:
        """An argon2id hash to store."""
        return await self._run(hash_password, password)

    async def _run(self, work: Callable[..., _T], *args: str) -> _T:
        async with self._slots:
            loop = asyncio.get_running_loop()
            try:
                return await loop.run_in_executor(self._executor, work, *args)
            finally:
                self.done += 1

    def close(self) -> None:
        """Stop the threads once the running hashes finish."""
        self._executor.shutdown(wait=False, cancel_futures=True)
