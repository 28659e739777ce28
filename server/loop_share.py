"""Long work on the event loop, given back to it a few milliseconds at a time.

The loop that restores checkpoints, serialises them and works through a
backlog of messages also raises alarms: work that awaits nothing would hold
every alarm behind it for as long as it runs. A :class:`LoopShare` is asked
at each step of such work and lets the loop run its other callbacks once
``slice_s`` of it has gone by since it last did.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from typing import Any

__all__ = ["LoopShare", "watch_collections", "watch_loop_lag"]


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


async def watch_loop_lag(observe: Callable[[float], None], *, every_s: float = 0.25) -> None:
    """Observe, for ever, how much later than asked the loop wakes a sleeping task.

    Work that holds the loop delays every alarm read on it by as much: this is
    the figure to look at when alarms are slow and the database is not.
    """
    loop = asyncio.get_running_loop()
    while True:
        asked = loop.time()
        await asyncio.sleep(every_s)
        observe(max(0.0, loop.time() - asked - every_s))


def watch_collections(observe: Callable[[int, float], None]) -> Callable[[], None]:
    """Observe each garbage collection's generation and seconds; returns the way to stop.

    A collection holds the loop for as long as it runs, and a full one walks every
    tracked object not frozen at the restore (``gc.freeze``): on a large fleet's heap
    that is the other thing, besides work that awaits nothing, that makes the loop late.
    """
    began: list[float] = []

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            began.append(time.perf_counter())
        elif began:
            observe(int(info["generation"]), time.perf_counter() - began.pop())

    gc.callbacks.append(callback)
    return lambda: gc.callbacks.remove(callback)
