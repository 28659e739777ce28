"""Detectors' findings raised and cleared in batches, off the consumer's path.

Raising an alert is a few statements and a commit. Done inside the consumer,
one transaction at a time, a storm of findings (a fleet's hubs back after an
outage, every home's first heartbeat raising a coverage alert) held every
reading behind it: 10,000 homes' findings at once put the consumer 196 s
behind. Here the consumer only queues a finding and goes on; a task raises
what is queued, in order, up to ``max_batch`` in one transaction, through
:meth:`AlertService.apply_findings`, so each alert's rows, audit trail,
escalation timer and notifications are what they were. Alarms never come
here: they are raised on their own connection at once (IngestService).

Order matters (a clear queued behind its raise must not overtake it), so one
task applies the queue front to back. A finding is not lost to a crash: a
checkpoint that says a condition was raised is written only after
:meth:`flushed` (DetectorKeeper's ``before_saving``), so a restart from an
older checkpoint finds the condition again in the stored readings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

import psycopg

from server.alerts.service import AlertService
from server.domain.findings import Finding
from server.domain.homes import HubHome

__all__ = ["FindingQueue"]

log = logging.getLogger(__name__)

_Entry = tuple[HubHome, Finding, "asyncio.Future[None]"]


class FindingQueue:
    """Findings applied in order, many a transaction (start :meth:`run` as a task)."""

    def __init__(self, alerts: AlertService, *, max_batch: int = 500) -> None:
        if max_batch < 1:
            raise ValueError("FindingQueue needs max_batch of at least 1")
        self._alerts = alerts
        self._max_batch = max_batch
        self._queue: deque[_Entry] = deque()
        self._last: asyncio.Future[None] | None = None
        self._wake = asyncio.Event()
        self._stopped = False
        self.applied = 0
        self.transactions = 0

    def put(self, home: HubHome, finding: Finding) -> asyncio.Future[None]:
        """Queue ``finding``; the future completes once it is committed (or given up on)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((home, finding, done))
        self._last = done
        self._wake.set()
        return done

    def pending(self) -> int:
        """Findings queued and not yet committed."""
        return len(self._queue)

    async def flushed(self) -> None:
        """Wait until every finding queued so far is committed (or given up on)."""
        last = self._last
        # Stopped (its last try failed): nothing will complete it; do not wait.
        if not self._stopped and last is not None and not last.done():
            await asyncio.wait([last])

    async def run(self) -> None:
        """Apply for ever; on cancellation, one last try at what is queued."""
        self._stopped = False
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._queue:
                    await self._apply(retry=True)
        except asyncio.CancelledError:
            with contextlib.suppress(psycopg.Error):
                while self._queue:
                    await self._apply(retry=False)
            raise
        finally:
            self._stopped = True
            # Not raised (the database was away at the stop): whoever waits is let go;
            # the detectors find them again after the restart (see the module's note).
            for _, _, done in self._queue:
                done.cancel()

    async def _apply(self, *, retry: bool) -> None:
        batch = [self._queue.popleft() for _ in range(min(len(self._queue), self._max_batch))]
        delay = 0.5
        try:
            while True:
                try:
                    await self._alerts.apply_findings([(home, f) for home, f, _ in batch])
                    self.transactions += 1
                    break
                except psycopg.OperationalError as exc:
                    if not retry:
                        raise
                    # The database is away: keep the batch, in order, and try again.
                    log.warning(
                        "raising %d findings failed (%s); retrying in %.1f s",
                        len(batch),
                        exc,
                        delay,
                    )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10.0)
                except Exception:
                    # One of them is refused for what it holds: the others must not go with it.
                    log.exception("a batch of %d findings failed; raising each alone", len(batch))
                    await self._one_by_one(batch)
                    break
        except BaseException:
            # Cancelled at a stop, or the database is away for good: back to the front.
            self._queue.extendleft(reversed(batch))
            raise
        self.applied += len(batch)
        for _, _, done in batch:
            if not done.done():
                done.set_result(None)

    async def _one_by_one(self, batch: list[_Entry]) -> None:
        for home, finding, _ in batch:
            try:
                await self._alerts.apply_findings([(home, finding)])
                self.transactions += 1
            except psycopg.OperationalError:
                raise
            except Exception:
                log.exception(
                    "could not apply %s for hub %s; it is dropped", finding.kind, home.hub
                )
