"""Readings go to the database in batches: one transaction and one COPY per flush."""

from __future__ import annotations

import asyncio
import logging
import time

from server.db.pool import Pool
from server.db.readings import ReceivedBatch, store_batches
from server.metrics import IngestMetrics

__all__ = ["ReadingWriter"]

log = logging.getLogger(__name__)


class ReadingWriter:
    """Writes each batch as soon as the database is free, together with all queued behind it.

    Idle, a batch is written at once; under load the queue fills while a flush
    runs and the next flush takes up to ``max_readings`` in one COPY.

    ``put`` waits when the queue is full: backpressure reaches the MQTT
    consumer instead of memory growing without bound. It returns a future
    that completes when the batch is committed, so the consumer acknowledges
    the message to the broker only then.
    """

    def __init__(
        self,
        pool: Pool,
        *,
        max_readings: int = 5_000,
        max_queued_batches: int = 20_000,
        metrics: IngestMetrics | None = None,
    ) -> None:
        self._pool = pool
        self._metrics = metrics or IngestMetrics()
        self._max_readings = max_readings
        self._queue: asyncio.Queue[tuple[ReceivedBatch, asyncio.Future[None]]] = asyncio.Queue(
            maxsize=max_queued_batches
        )
        self.stored_batches = 0
        self.stored_readings = 0
        self.duplicate_batches = 0

    async def put(self, item: ReceivedBatch) -> asyncio.Future[None]:
        """Queue a batch for the next flush; the future completes once it is committed."""
        committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((item, committed))
        return committed

    def pending(self) -> int:
        """Batches waiting to be written."""
        return self._queue.qsize()

    async def run(self) -> None:
        """Flush forever; on cancellation, flush what is queued first."""
        try:
            while True:
                first = await self._queue.get()
                await self._flush(self._collect(first))
        except asyncio.CancelledError:
            leftovers = []
            while not self._queue.empty():
                leftovers.append(self._queue.get_nowait())
            if leftovers:
                await self._flush(leftovers)
            raise

    def _collect(
        self, first: tuple[ReceivedBatch, asyncio.Future[None]]
    ) -> list[tuple[ReceivedBatch, asyncio.Future[None]]]:
        queued = [first]
        readings = len(first[0].batch.readings)
        while readings < self._max_readings and not self._queue.empty():
            entry = self._queue.get_nowait()
            queued.append(entry)
            readings += len(entry[0].batch.readings)
        return queued

    async def _flush(self, queued: list[tuple[ReceivedBatch, asyncio.Future[None]]]) -> None:
        items = [item for item, _ in queued]
        started = time.perf_counter()
        delay = 0.5
        while True:
            try:
                async with self._pool.connection() as conn:
                    new = await store_batches(conn, items)
                break
            except Exception:
                # Never drop readings: keep them and retry until the database is back.
                log.exception(
                    "writing %d reading batches failed; retrying in %.1f s", len(items), delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        for _, committed in queued:
            if not committed.done():
                committed.set_result(None)
        stored = sum(len(i.batch.readings) for i in new)
        self.stored_batches += len(new)
        self.stored_readings += stored
        self.duplicate_batches += len(items) - len(new)
        self._metrics.flush_seconds.observe(time.perf_counter() - started)
        self._metrics.flush_readings.observe(sum(len(i.batch.readings) for i in items))
        self._metrics.readings_stored.inc(stored)
        self._metrics.duplicate_batches.inc(len(items) - len(new))
        self._metrics.writer_queue.set(self._queue.qsize())
