"""Slow down password guessing: a few failures per account and per address, then wait.

A try is counted before its password is hashed (see :meth:`LoginLimiter.admit`).

The failures are kept in PostgreSQL (:mod:`server.store.login_failures`), so the
limit holds across server processes and restarts; the rule itself is pure.

Wrong passwords for made-up usernames are counted apart from those for real
accounts: twenty guesses at names that do not exist make that address wait
for more guesses at names, but cannot lock the real accounts of everyone
behind it (an alarm receiving centre's whole shift shares one address).

>>> limiter = LoginLimiter(max_failures=2, window_s=60)
>>> ages = {"user:edith": [10.0, 5.0], "addr:10.0.0.9": []}  # seconds ago, newest first
>>> limiter.wait(("Edith", "10.0.0.9"), ages, known=True)
55.0
>>> limiter.wait(("Edith", "10.0.0.9"), {"user:edith": [61.0, 59.0]}, known=True) is None
True
>>> guessed = {"unknown:10.0.0.9": [float(s) for s in range(8)]}  # 8 made-up names
>>> limiter.wait(("nobody", "10.0.0.9"), guessed, known=False)
53.0
>>> limiter.wait(("Edith", "10.0.0.9"), guessed, known=True) is None
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from server.store import login_failures
from server.store.pool import DbConn

__all__ = ["LoginLimiter"]

# One address may fail this many times more than one account before it waits:
# a care home's staff share a public address. For made-up usernames the
# address waits sooner; for real accounts much later, so that guessing across
# many real accounts from one place is still slowed.
_UNKNOWN_FACTOR = 4
_ADDRESS_FACTOR = 20


class LoginLimiter:
    """Failed sign-ins within a sliding window, by username and by client address."""

    def __init__(self, *, max_failures: int = 5, window_s: float = 300.0) -> None:
        self._max = max_failures
        self._window_s = window_s

    @staticmethod
    def _keys(who: tuple[str, str], known: bool) -> tuple[str, str]:
        username, address = who
        return f"user:{username.lower()}", f"{'addr' if known else 'unknown'}:{address}"

    def wait(
        self, who: tuple[str, str], ages: Mapping[str, Sequence[float]], *, known: bool
    ) -> float | None:
        """Seconds to wait, given each key's failures as seconds ago (newest first); or None.

        ``known``: the username is a real account's.
        """
        user, address = self._keys(who, known)
        factor = _ADDRESS_FACTOR if known else _UNKNOWN_FACTOR
        waits = [
            self._wait(ages.get(user, ()), self._max),
            self._wait(ages.get(address, ()), self._max * factor),
        ]
        return max((w for w in waits if w is not None), default=None)

    def _wait(self, ages: Sequence[float], limit: int) -> float | None:
        recent = [age for age in ages if age < self._window_s]
        if len(recent) < limit:
            return None
        # Free again when the limit-th newest failure leaves the window.
        return self._window_s - recent[limit - 1]

    async def admit(self, conn: DbConn, who: tuple[str, str], *, known: bool) -> float | None:
        """Let one try through and count it as a failure now, or say how long to wait.

        The try is counted before the password is checked, in one locked step: a
        flood of concurrent guesses gets exactly the limit's worth of tries, and
        the ones refused cost no hashing. :meth:`succeeded` takes it back.
        """
        keys = self._keys(who, known)
        async with conn.transaction():
            await login_failures.lock(conn, keys)
            ages = await login_failures.ages(conn, keys, window_s=self._window_s)
            wait = self.wait(who, ages, known=known)
            if wait is None:
                await login_failures.record(conn, keys, window_s=self._window_s)
        return wait

    async def succeeded(self, conn: DbConn, who: tuple[str, str]) -> None:
        """The right password: the account's slate is clean, and the address's try is taken back."""
        user, address = self._keys(who, known=True)
        async with conn.transaction():
            await login_failures.forget(conn, user)
            await login_failures.forget_one(conn, address)
