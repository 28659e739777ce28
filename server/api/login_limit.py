"""Slow down password guessing: a few failures per account and per address, then wait.

A try is counted before its password is hashed (see :meth:`LoginLimiter.admit`).

The failures are kept in PostgreSQL (:mod:`server.db.login_failures`), so the
limit holds across server processes and restarts; the rule itself is pure.

>>> limiter = LoginLimiter(max_failures=2, window_s=60)
>>> ages = {"user:edith": [10.0, 5.0], "addr:10.0.0.9": []}  # seconds ago, newest first
>>> limiter.wait(("Edith", "10.0.0.9"), ages)
55.0
>>> limiter.wait(("Edith", "10.0.0.9"), {"user:edith": [61.0, 59.0]}) is None
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from server.db import login_failures
from server.db.pool import DbConn

__all__ = ["LoginLimiter"]

# One address may fail this many times more than one account before it waits:
# a care home's staff share a public address.
_ADDRESS_FACTOR = 4


class LoginLimiter:
    """Failed sign-ins within a sliding window, by username and by client address."""

    def __init__(self, *, max_failures: int = 5, window_s: float = 300.0) -> None:
        self._max = max_failures
        self._window_s = window_s

    @staticmethod
    def _keys(who: tuple[str, str]) -> tuple[str, str]:
        username, address = who
        return f"user:{username.lower()}", f"addr:{address}"

    def wait(self, who: tuple[str, str], ages: Mapping[str, Sequence[float]]) -> float | None:
        """Seconds to wait, given each key's failures as seconds ago (newest first); or None."""
        user, address = self._keys(who)
        waits = [
            self._wait(ages.get(user, ()), self._max),
            self._wait(ages.get(address, ()), self._max * _ADDRESS_FACTOR),
        ]
        return max((w for w in waits if w is not None), default=None)

    def _wait(self, ages: Sequence[float], limit: int) -> float | None:
        recent = [age for age in ages if age < self._window_s]
        if len(recent) < limit:
            return None
        # Free again when the limit-th newest failure leaves the window.
        return self._window_s - recent[limit - 1]

    async def admit(self, conn: DbConn, who: tuple[str, str]) -> float | None:
        """Let one try through and count it as a failure now, or say how long to wait.

        The try is counted before the password is checked, in one locked step: a
        flood of concurrent guesses gets exactly the limit's worth of tries, and
        the ones refused cost no hashing. :meth:`succeeded` takes it back.
        """
        keys = self._keys(who)
        async with conn.transaction():
            await login_failures.lock(conn, keys)
            wait = self.wait(who, await login_failures.ages(conn, keys, window_s=self._window_s))
            if wait is None:
                await login_failures.record(conn, keys, window_s=self._window_s)
        return wait

    async def succeeded(self, conn: DbConn, who: tuple[str, str]) -> None:
        """The right password: the account's slate is clean, and the address's try is taken back."""
        user, address = self._keys(who)
        async with conn.transaction():
            await login_failures.forget(conn, user)
            await login_failures.forget_one(conn, address)
