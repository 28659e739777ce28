"""Simulated time: a manual clock for tests and a fast clock that catches up with now."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

__all__ = ["CatchUpClock", "ManualClock"]


class ManualClock:
    """A clock that moves only when told to, for tests and offline runs.

    >>> clock = ManualClock(datetime(2026, 11, 24, 7, 0, tzinfo=UTC))
    >>> clock.advance(timedelta(minutes=5)).isoformat()
    '2026-11-24T07:05:00+00:00'
    """

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        """The current simulated time."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new time."""
        self._now += delta
        return self._now


class CatchUpClock:
    """Runs ``speed`` times faster than real time from ``start`` until it reaches now.

    From then on it is the real time, so a demo can begin in the past (with a
    history already behind it) and end up live. Safe to read from any thread.
    """

    def __init__(
        self,
        *,
        start: datetime,
        speed: float,
        real_time: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.start = start
        self.speed = speed
        self._real_time = real_time or (lambda: datetime.now(UTC))
        self._monotonic = monotonic
        self._started_at = monotonic()

    def now(self) -> datetime:
        """Simulated time: fast until it catches up with the real time, then real."""
        elapsed = self._monotonic() - self._started_at
        simulated = self.start + timedelta(seconds=elapsed * self.speed)
        return min(simulated, self._real_time())

    def caught_up(self) -> bool:
        """Whether simulated time has reached the real time."""
        elapsed = self._monotonic() - self._started_at
        return self.start + timedelta(seconds=elapsed * self.speed) >= self._real_time()
