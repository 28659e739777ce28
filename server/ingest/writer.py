"""Readings go to the database in batches: one transaction and one COPY per flush."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import psycopg

from edge.protocol import encode, readings_topic
from server.metrics import IngestMetrics
from server.store.dead_letters import DeadLetter, store_dead_letter
from server.store.pool import DbConn, Pool
from server.store.readings import ReceivedBatch, store_batches

__all__ = ["ReadingWriter"]

log = logging.getLogger(__name__)

# A batch, what completes when it is committed, and when it was queued (loop time).
_Entry = tuple[ReceivedBatch, "asyncio.Future[None]", float]
_T = TypeVar("_T")


class ReadingWriter:
    """Writes each batch as soon as the database is free, together with all queued behind it.

    A batch is written once it is ``linger_s`` old (group commit: what arrives
    meanwhile shares its transaction); under load the queue fills while a flush
    runs and the next flush takes up to ``max_readings`` in one COPY at once.

    ``put`` waits when the queue is full: backpressure reaches the MQTT
    consumer instead of memory growing without bound. It returns a future
    that completes when the batch is committed (or dead-lettered), so the
    consumer acknowledges the message to the broker only then.

    A database that is away is waited out; a batch the database refuses for
    what it holds is dead-lettered with the database's reason, so one bad
    batch never holds up the others. ``problem()`` says when the writer has
    made no progress for ``stall_after_s``, for ``/readyz``.
    """

    def __init__(
        self,
        pool: Pool,
        *,
        max_readings: int = 5_000,
        max_queued_batches: int = 20_000,
        linger_s: float = 0.0,
        stall_after_s: float = 30.0,
        metrics: IngestMetrics | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pool = pool
        self._metrics = metrics or IngestMetrics()
        self._max_readings = max_readings
        self._linger_s = linger_s
        self._stall_after_s = stall_after_s
        self._clock = clock
        self._queue: asyncio.Queue[_Entry] = asyncio.Queue(maxsize=max_queued_batches)
        # When the flush now running began, and the last error it met: a flush
        # that neither commits nor gives up is the writer standing still.
        self._busy_since: float | None = None
        self._last_error = ""
        self._stall_logged = False
        self.flushes = 0
        self.stored_batches = 0
        self.stored_readings = 0
        self.duplicate_batches = 0
        self.refused_batches = 0

    async def put(self, item: ReceivedBatch) -> asyncio.Future[None]:
        """Queue a batch for the next flush; the future completes once it is committed."""
        loop = asyncio.get_running_loop()
        committed: asyncio.Future[None] = loop.create_future()
        await self._queue.put((item, committed, loop.time()))
        return committed

    def pending(self) -> int:
        """Batches waiting to be written."""
        return self._queue.qsize()

    def problem(self) -> str | None:
        """Why the writer is not making progress, or None while it is."""
        if self._busy_since is None:
            return None
        stalled = self._clock() - self._busy_since
        if stalled < self._stall_after_s:
            return None
        reason = f"the reading writer has stored nothing for {stalled:.0f} s"
        if self._last_error:
            reason += f" ({self._last_error})"
        if not self._stall_logged:
            self._stall_logged = True
            log.error("%s; /readyz fails until it recovers", reason)
        return reason

    async def run(self) -> None:
        """Flush forever; on cancellation, flush what is queued first."""
        first: _Entry | None = None
        loop = asyncio.get_running_loop()
        try:
            while True:
                first = await self._queue.get()
                # A flush costs the event loop about as much for one batch as for a
                # dozen (its transaction, statements and round trips): the oldest batch
                # waits until it is linger_s old, and what comes meanwhile shares its
                # flush. Under load it is older than that already and nothing waits.
                wait = first[2] + self._linger_s - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                taken, first = self._collect(first), None
                await self._flush(taken)
        except asyncio.CancelledError:
            leftovers = [first] if first is not None else []
            while not self._queue.empty():
                leftovers.append(self._queue.get_nowait())
            if leftovers:
                await self._flush(leftovers)
            raise

    def _collect(self, first: _Entry) -> list[_Entry]:
        queued = [first]
        readings = len(first[0].batch.readings)
        while readings < self._max_readings and not self._queue.empty():
            entry = self._queue.get_nowait()
            queued.append(entry)
            readings += len(entry[0].batch.readings)
        return queued

    async def _flush(self, queued: list[_Entry]) -> None:
        items = [item for item, _, _ in queued]
        started = time.perf_counter()
        self._busy_since = self._clock()
        new, refused = await self._write(items)
        self._busy_since = None
        self._last_error = ""
        if self._stall_logged:
            self._stall_logged = False
            log.warning("the reading writer is storing readings again")
        for _, committed, _ in queued:
            if not committed.done():
                committed.set_result(None)
        stored = sum(len(i.batch.readings) for i in new)
        duplicates = len(items) - len(new) - refused
        self.flushes += 1
        self.stored_batches += len(new)
        self.stored_readings += stored
        self.duplicate_batches += duplicates
        self.refused_batches += refused
        self._metrics.flush_seconds.observe(time.perf_counter() - started)
        self._metrics.flush_readings.observe(sum(len(i.batch.readings) for i in items))
        self._metrics.readings_stored.inc(stored)
        self._metrics.duplicate_batches.inc(duplicates)
        self._metrics.writer_queue.set(self._queue.qsize())

    async def _write(self, items: list[ReceivedBatch]) -> tuple[list[ReceivedBatch], int]:
        """Store the batches; returns those that were new and how many were refused."""
        try:
            return await self._store(items), 0
        except Exception as exc:
            if len(items) == 1:
                await self._refuse(items[0], exc)
                return [], 1
            # The database refused what the batches hold (a value out of range, a
            # hub that no longer exists) without saying which: write them one by
            # one, so only the batch at fault is set aside.
            log.warning(
                "the database refused %d batches written together (%s); writing them one by one",
                len(items),
                _first_line(exc),
            )
        new: list[ReceivedBatch] = []
        refused = 0
        for item in items:
            stored, failed = await self._write([item])
            new += stored
            refused += failed
        return new, refused

    async def _store(self, items: list[ReceivedBatch]) -> list[ReceivedBatch]:
        """Commit the batches, waiting out a database that is away; other errors are raised."""

        async def store(conn: DbConn) -> list[ReceivedBatch]:
            return await store_batches(conn, items)

        return await self._through_outages(f"writing {len(items)} reading batches", store)

    async def _refuse(self, item: ReceivedBatch, error: Exception) -> None:
        """Keep a batch the database will not take as a dead letter, with the database's reason."""
        b = item.batch
        reason = f"readings batch seq {b.seq} refused by the database: {_first_line(error)}"
        log.error("dead letter from %s: %s", b.hub, reason)
        letter = DeadLetter(item.received_at, readings_topic(b.hub), b.hub, reason, encode(b))

        async def store(conn: DbConn) -> None:
            await store_dead_letter(conn, letter)

        await self._through_outages("storing a dead letter", store)
        self._metrics.dead_letters.labels("refused_by_database").inc()

    async def _through_outages(self, what: str, work: Callable[[DbConn], Awaitable[_T]]) -> _T:
        """Run ``work`` on a connection, again and again while the database is away."""
        delay = 0.5
        while True:
            try:
                async with self._pool.connection() as conn:
                    return await work(conn)
            except psycopg.OperationalError as exc:
                # Never drop readings because the database is away: keep them and retry.
                self._last_error = _first_line(exc)
                log.warning("%s failed (%s); retrying in %.1f s", what, self._last_error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)


def _first_line(error: Exception) -> str:
    """The database's message without its context lines, or the error's type."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
