"""Hubs' heartbeats kept in memory and written together, never one UPDATE per heartbeat.

A heartbeat (or a last will) says how a hub is now: only its latest matters.
Each is kept in memory, replacing that hub's previous one, and a flush writes
every hub's latest in one statement per ``chunk_hubs``, at most once every
``flush_s``. The first heartbeat after a quiet spell is written at once; under
load they gather while the database is busy or the interval runs. The future
``put`` returns completes when its flush commits, so the consumer still
acknowledges the message to the broker only once it is stored.

What reads these fields (hub_offline in server/jobs/hub_watch.py, the hub
pages, the status of the service) sees them at most ``flush_s`` plus one write
late; the offline grace and silence limits are minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

import psycopg

from edge.protocol import HubStatus
from server.store.people import record_hub_statuses
from server.store.pool import Pool

__all__ = ["HeartbeatWriter"]

log = logging.getLogger(__name__)


class HeartbeatWriter:
    """Every hub's latest status, written in batches (start :meth:`run` as a task)."""

    # 500 hubs a statement: building one statement's parameters awaits nothing, and at
    # 2,000 (about 25 ms of a 100,000-home fleet's flush) it held every alarm's round
    # trips behind it.
    def __init__(self, pool: Pool, *, flush_s: float = 0.25, chunk_hubs: int = 500) -> None:
        self._pool = pool
        self._flush_s = flush_s
        self._chunk_hubs = chunk_hubs
        self._latest: dict[str, tuple[HubStatus, datetime]] = {}
        self._waiting: list[asyncio.Future[None]] = []
        self._wake = asyncio.Event()
        self.received = 0
        self.written = 0
        self.statements = 0

    def put(self, status: HubStatus, received_at: datetime) -> asyncio.Future[None]:
        """Keep ``status`` as its hub's latest; the future completes once it is committed."""
        self._latest[status.hub] = (status, received_at)
        committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(committed)
        self.received += 1
        self._wake.set()
        return committed

    def pending(self) -> int:
        """Hubs whose latest status is not written yet."""
        return len(self._latest)

    async def run(self) -> None:
        """Flush for ever; on cancellation, one last flush of what is kept."""
        try:
            while True:
                await self._wake.wait()
                await self._flush(retry=True)
                await asyncio.sleep(self._flush_s)
        except asyncio.CancelledError:
            with contextlib.suppress(psycopg.Error):
                await self._flush(retry=False)
            raise

    async def _flush(self, *, retry: bool) -> None:
        self._wake.clear()
        latest, self._latest = self._latest, {}
        waiting, self._waiting = self._waiting, []
        if not latest:
            return
        statuses = sorted(latest.values(), key=lambda entry: entry[0].hub)
        delay = 0.5
        try:
            for start in range(0, len(statuses), self._chunk_hubs):
                chunk = statuses[start : start + self._chunk_hubs]
                while True:
                    try:
                        async with self._pool.connection() as conn:
                            await record_hub_statuses(conn, chunk)
                        break
                    except psycopg.OperationalError as exc:
                        if not retry:
                            raise
                        # The database is away: keep the statuses and try again.
                        log.warning(
                            "writing heartbeats failed (%s); retrying in %.1f s", exc, delay
                        )
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, 10.0)
                self.statements += 1
                self.written += len(chunk)
        except (asyncio.CancelledError, psycopg.OperationalError):
            # Not written: those still latest go back (newer ones that came meanwhile win).
            for hub, entry in latest.items():
                self._latest.setdefault(hub, entry)
            self._waiting[:0] = waiting
            self._wake.set()
            raise
        except Exception:
            # Refused for what it holds, not an outage: retrying cannot help, and
            # each hub's next heartbeat (a minute away) replaces what was lost.
            log.exception("the heartbeats of %d hubs could not be written", len(statuses))
        for committed in waiting:
            if not committed.done():
                committed.set_result(None)
