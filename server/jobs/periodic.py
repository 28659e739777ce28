"""Rounds run for ever at an interval: a failed round is logged and tried again next time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

__all__ = ["every"]


async def every(
    interval_s: float,
    round_: Callable[[], Awaitable[None]],
    *,
    failed: str,
    log: logging.Logger,
    wait_first: bool = False,
) -> None:
    """Run ``round_`` every ``interval_s`` seconds until cancelled.

    A round that raises is logged with ``failed`` and the loop goes on: one bad row or a
    database blip must not stop hub checks, check-ins or checkpoints for good.
    """
    if wait_first:
        await asyncio.sleep(interval_s)
    while True:
        try:
            await round_()
        except Exception:
            log.exception(failed)
        await asyncio.sleep(interval_s)
