"""A partition's consumer gives the loop back while it works through a backlog: no NATS needed."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from nats.js import JetStreamContext

from server.cluster.stream import consume


@dataclass(slots=True)
class _Metadata:
    num_pending: int
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(slots=True)
class _Msg:
    subject: str
    metadata: _Metadata
    data: bytes = b"{}"
    acked: bool = False

    async def ack(self) -> None:
        self.acked = True


class _Backlog:
    """A pull subscription with ``count`` messages waiting, fetched ``batch`` at a time."""

    def __init__(self, count: int) -> None:
        self.messages = [
            _Msg(f"carewatch.p.0.hub-{n:04d}.readings", _Metadata(num_pending=count - n - 1))
            for n in range(count)
        ]
        self._next = 0

    async def fetch(self, batch: int, timeout: float) -> list[_Msg]:  # noqa: ASYNC109 (NATS's)
        if self._next >= len(self.messages):
            await asyncio.sleep(timeout)
            raise TimeoutError
        got = self.messages[self._next : self._next + batch]
        self._next += len(got)
        return got


async def test_a_fetched_backlog_is_handled_a_few_milliseconds_at_a_time() -> None:
    backlog = _Backlog(400)
    handled: list[str] = []
    pending: list[int] = []

    async def handler(topic: str, payload: bytes, received_at: datetime) -> None:
        # What handling a readings message costs the loop, and it awaits nothing that waits.
        began = time.thread_time()
        while time.thread_time() - began < 0.0005:
            pass
        handled.append(topic)

    worst = 0.0

    async def ticker() -> None:
        nonlocal worst
        while True:
            cpu = time.thread_time()
            await asyncio.sleep(0.001)
            worst = max(worst, time.thread_time() - cpu)

    tick = asyncio.create_task(ticker())
    task = asyncio.create_task(
        consume(
            cast(JetStreamContext.PullSubscription, cast(Any, backlog)),
            handler,
            transient_errors=(),
            on_pending=pending.append,
        )
    )
    deadline = time.monotonic() + 30
    while len(handled) < 400 or not all(m.acked for m in backlog.messages):
        assert time.monotonic() < deadline, "the backlog was not handled"
        await asyncio.sleep(0.01)
    task.cancel()
    tick.cancel()
    # 200 messages fetched at once took 100 ms of the loop in one go before.
    assert worst < 0.03, f"the loop was held {worst * 1000:.0f} ms"
    assert handled[0] == "carewatch/v1/hubs/hub-0000/readings"
    assert pending[0] == 399
    assert pending[-1] == 0
