"""Long work on the event loop, given back to it a few milliseconds at a time.

The loop that restores checkpoints, serialises them and works through a
backlog of messages also raises alarms: work that awaits nothing would hold
every alarm behind it for as long as it runs. A :class:`LoopShare` is asked
at each step of such work and lets the loop run its other callbacks once
``slice_s`` of it has gone by since it last did.
"""

from __future__ import annotations

import asyncio
import time

__all__ = ["LoopShare"]


class LoopShare:
    """Gives the event loop back once ``slice_s`` of work has run since it last had it."""

    __slots__ = ("_since", "_slice_s")

    def __init__(self, slice_s: float) -> None:
        self._slice_s = slice_s
        self._since = time.perf_counter()

    async def step(self) -> None:
        """One step of the work done: hand the loop over if this slice is used up."""
        if time.perf_counter() - self._since > self._slice_s:
            await asyncio.sleep(0)
            self._since = time.perf_counter()
