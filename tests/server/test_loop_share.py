"""The loop-lag probe: work holding the event loop shows as a late timer."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time

from server.loop_share import LoopShare, watch_collections, watch_loop_lag


async def test_work_that_holds_the_loop_is_observed_as_lag() -> None:
    seen: list[float] = []
    probe = asyncio.create_task(watch_loop_lag(seen.append, every_s=0.02))
    try:
        await asyncio.sleep(0.1)
        quiet = list(seen)
        time.sleep(0.3)  # noqa: ASYNC251 - work that holds the loop is what is observed
        await asyncio.sleep(0.1)
    finally:
        probe.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await probe
    assert quiet, "the probe observes while the loop is free"
    assert max(seen) >= 0.25, f"a 0.3 s hold observed as at most {max(seen):.3f} s"


async def test_a_share_gives_the_loop_back_once_its_slice_is_used() -> None:
    ran: list[int] = []

    async def other() -> None:
        ran.append(1)

    share = LoopShare(0.01)
    asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(other()))
    began = time.perf_counter()
    while time.perf_counter() - began < 0.05 and not ran:
        await share.step()  # a step of work that itself awaits nothing
    assert ran, "the other task never ran while the work went on"


def test_each_collection_is_observed_with_its_generation_until_stopped() -> None:
    seen: list[tuple[int, float]] = []
    stop = watch_collections(lambda generation, seconds: seen.append((generation, seconds)))
    try:
        gc.collect()
    finally:
        stop()
    generation, seconds = seen[-1]
    assert generation == 2, "gc.collect() is a full collection"
    assert seconds >= 0
    count = len(seen)
    gc.collect()
    assert len(seen) == count, "observed after it was stopped"
