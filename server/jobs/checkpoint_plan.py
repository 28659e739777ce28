"""Which homes' checkpoints to save next, and how many bytes a minute may go to them.

Pure: handed hubs, byte counts and ``now`` (monotonic seconds); the detector
keeper does the serialising and the writing. A home that changed waits in
line in the order it first changed, so under a byte bound the longest-unsaved
home is always saved first and none waits for ever; the line knows since when
its front has waited (what a bound that yields to ingest's backlog is capped by).

>>> line = CheckpointLine()
>>> line.changed(["hub-b", "hub-a"], now=10.0); line.changed(["hub-b"], now=20.0)
>>> line.waited_s(now=25.0)
15.0
>>> line.take(1)
['hub-b']
>>> line.put_back(["hub-b"], since=10.0); line.take(5)
['hub-b', 'hub-a']
>>> budget = ByteBudget(bytes_per_min=600, now=0.0)
>>> budget.spend(50, now=0.0); budget.allows(now=0.0)  # 5 s worth banked, spent
False
>>> budget.allows(now=1.0)  # about 9 bytes a second come back
True
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence

__all__ = ["ByteBudget", "CheckpointLine", "chunk_pause"]


class CheckpointLine:
    """Homes whose state changed and is not saved yet, oldest change first.

    Every operation costs what it is given, not the length of the line: a
    line of 100,000 homes is worked on a chunk at a time on the event loop.
    """

    def __init__(self) -> None:
        # Ordered: a hub already waiting keeps its place; put back goes to the front.
        # Each with when it joined (monotonic seconds), so the front's wait is known.
        self._waiting: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._waiting)

    def changed(self, hubs: Iterable[str], *, now: float) -> None:
        """These homes changed; those not yet waiting join the end of the line."""
        for hub in hubs:
            self._waiting.setdefault(hub, now)

    def front_since(self) -> float | None:
        """When the home at the front joined the line (None: nobody waits)."""
        return next(iter(self._waiting.values()), None)

    def waited_s(self, *, now: float) -> float:
        """How long the home at the front has waited unsaved (0 when nobody waits)."""
        since = self.front_since()
        return 0.0 if since is None else max(0.0, now - since)

    def take(self, count: int) -> list[str]:
        """Up to ``count`` homes from the front of the line (they leave it)."""
        count = min(count, len(self._waiting))
        return [self._waiting.popitem(last=False)[0] for _ in range(count)]

    def put_back(self, hubs: Sequence[str], *, since: float) -> None:
        """Homes taken but not saved (a failed or cancelled write) go back to the front.

        ``since``: when they joined (for homes taken together, the front's time:
        the earliest, so none is counted as having waited less than it did). A
        home already waiting keeps the earlier of its time and ``since``.
        """
        for hub in reversed(hubs):
            self._waiting[hub] = min(since, self._waiting.get(hub, since))
            self._waiting.move_to_end(hub, last=False)


# What the budget banks while nothing is written: a few seconds' worth, so that no
# minute holds more than ``bytes_per_min`` (a minute banked, as before, let a minute
# after a quiet one write twice the bound: 24 MB/min measured over 2 minutes at
# 100,000 homes against a bound of 20, the rounds deferred for a backlog then caught up).
BANK_S = 5.0


class ByteBudget:
    """A token bucket in bytes: at most ``bytes_per_min`` in any minute.

    It banks ``BANK_S`` seconds' worth and refills at the rest of the bound
    spread over the minute, so a minute's writes are at most the bank plus
    sixty seconds of refill: ``bytes_per_min``. A checkpoint's size is known
    only once it is serialised, so spending may take the balance below zero
    (by one home's state at most); nothing more is allowed until it refills.
    """

    def __init__(self, *, bytes_per_min: int, now: float) -> None:
        self.bytes_per_min = bytes_per_min
        self._bank = bytes_per_min * BANK_S / 60.0
        self._balance = self._bank
        self._at = now

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._at)
        self._balance = min(self._bank, self._balance + elapsed * self.rate)
        self._at = max(self._at, now)

    @property
    def rate(self) -> float:
        """Bytes a second it refills at."""
        return (self.bytes_per_min - self._bank) / 60.0

    def allows(self, *, now: float) -> bool:
        """Whether another checkpoint may be written now."""
        self._refill(now)
        return self._balance > 0

    def spend(self, size: int, *, now: float) -> None:
        """``size`` bytes were written."""
        self._refill(now)
        self._balance -= size


def chunk_pause(*, interval_s: float, waiting: int, chunk_homes: int) -> float:
    """Seconds between chunks so that ``waiting`` homes are spread over one interval.

    >>> chunk_pause(interval_s=30.0, waiting=1000, chunk_homes=250)
    7.5
    >>> chunk_pause(interval_s=30.0, waiting=0, chunk_homes=250)
    30.0
    """
    chunks = -(-waiting // chunk_homes)
    return interval_s / max(1, chunks)
