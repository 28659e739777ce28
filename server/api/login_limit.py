"""Slow down password guessing: a few failures per account and per address, then wait.

Pure: the caller passes the time. Kept in the server's memory, so the limit is
per process; one API process is the deployment this is written for.

>>> limiter = LoginLimiter(max_failures=2, window_s=60)
>>> limiter.failed(("edith", "10.0.0.1"), now=0.0)
>>> limiter.failed(("edith", "10.0.0.1"), now=1.0)
>>> limiter.retry_after(("edith", "10.0.0.9"), now=2.0)
58.0
>>> limiter.retry_after(("edith", "10.0.0.9"), now=61.0) is None
True
"""

from __future__ import annotations

from collections import deque

__all__ = ["LoginLimiter"]

# One address may fail this many times more than one account before it waits:
# a care home's staff share a public address.
_ADDRESS_FACTOR = 4


class LoginLimiter:
    """Failed sign-ins within a sliding window, by username and by client address."""

    def __init__(self, *, max_failures: int = 5, window_s: float = 300.0) -> None:
        self._max = max_failures
        self._window_s = window_s
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, who: tuple[str, str], *, now: float) -> float | None:
        """Seconds to wait before trying again, or None if a try is allowed now."""
        username, address = who
        waits = [
            self._wait(f"user:{username.lower()}", self._max, now),
            self._wait(f"addr:{address}", self._max * _ADDRESS_FACTOR, now),
        ]
        return max((w for w in waits if w is not None), default=None)

    def failed(self, who: tuple[str, str], *, now: float) -> None:
        """A wrong password."""
        username, address = who
        for key in (f"user:{username.lower()}", f"addr:{address}"):
            self._failures.setdefault(key, deque()).append(now)
        if len(self._failures) > 100_000:  # a flood of made-up names must not hold memory
            self._forget_old(now)

    def succeeded(self, who: tuple[str, str]) -> None:
        """The right password: the account's slate is clean (the address's is not)."""
        self._failures.pop(f"user:{who[0].lower()}", None)

    def _wait(self, key: str, limit: int, now: float) -> float | None:
        times = self._failures.get(key)
        if not times:
            return None
        while times and times[0] <= now - self._window_s:
            times.popleft()
        if len(times) < limit:
            return None
        return times[-limit] + self._window_s - now

    def _forget_old(self, now: float) -> None:
        for key in [k for k, t in self._failures.items() if t[-1] <= now - self._window_s]:
            del self._failures[key]
