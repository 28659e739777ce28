"""Fan out alert changes, announced by PostgreSQL NOTIFY, to every open live stream.

However many streams are open, the process has one LISTEN connection and, per
batch of changes, one query for the changed alerts with their residents' access
scopes (:func:`server.store.live.changed_alerts`). Each alert is rendered once and
handed, in memory, to the streams whose viewer :func:`server.domain.access.may_see` it.
A stream that falls behind is told to reload rather than queue without end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta

import psycopg

from server.domain.access import ResidentScope, Role, Viewer, may_see
from server.store import live as live_sql
from server.store.alerts import ALERT_CHANNEL, AlertRow
from server.store.pool import Pool

__all__ = ["AlertFeed", "Subscription"]

log = logging.getLogger(__name__)

# A console may show a resident on its live queue often: logged as a read once in
# this long per person and resident (as for the other lists).
_READ_EVERY = timedelta(minutes=10)


class Subscription:
    """One live stream: whose it is, and its events (an alert's JSON, or ``None``: reload)."""

    __slots__ = ("_queue", "credential", "ended", "viewer")

    def __init__(self, viewer: Viewer, *, backlog: int, credential: str = "") -> None:
        self.viewer = viewer
        # The token or session the stream was opened with: signing it out ends the stream.
        self.credential = credential
        self.ended = False
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=backlog)

    def end(self) -> None:
        """The credential was signed out: wake the stream so that it ends."""
        self.ended = True
        self.offer(None)

    async def next(self) -> str | None:
        """The next event: an alert as JSON, or ``None`` when changes may have been missed."""
        return await self._queue.get()

    def offer(self, event: str | None) -> None:
        """Queue ``event``; a stream that has fallen ``backlog`` behind is told to reload."""
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            # A stalled client must not hold memory: one reload replaces what it missed.
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(None)


class AlertFeed:
    """One LISTEN connection per process; each subscriber gets the changed alerts it may see.

    NOTIFY is sent on commit by whichever process changed the alert, so a
    console sees changes made by the ingest path and by other API servers.
    The queries run on ``pool`` (the API's): the alarm path never waits for them.
    """

    def __init__(
        self,
        database_url: str,
        pool: Pool,
        *,
        render: Callable[[AlertRow], str],
        backlog: int = 100,
        batch: int = 200,
        max_pending: int = 10_000,
    ) -> None:
        self._url = database_url
        self._pool = pool
        self._render = render
        self._backlog = backlog
        self._batch = batch
        self._max_pending = max_pending
        self._subscribers: set[Subscription] = set()
        # Changed alert ids not yet fetched, in order heard; a dict, so an alert
        # that changes again meanwhile is fetched once, as it is by then.
        self._pending: dict[uuid.UUID, None] = {}
        self._wake = asyncio.Event()
        self.listening = asyncio.Event()
        self.closed = False
        # For metrics and tests: changes heard, and queries made to deliver them.
        self.changes_heard = 0
        self.queries = 0

    async def run(self) -> None:
        """Listen and deliver until cancelled, reconnecting if the database goes away."""
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._listen(), name="alert-feed-listen")
            tasks.create_task(self._deliver(), name="alert-feed-deliver")

    async def _listen(self) -> None:
        delay = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {ALERT_CHANNEL}")
                    self.listening.set()
                    delay = 0.5
                    async for notice in conn.notifies():
                        with contextlib.suppress(ValueError):
                            self._heard(uuid.UUID(notice.payload))
            except psycopg.OperationalError as exc:
                self.listening.clear()
                log.warning("alert feed lost the database (%s); retrying in %.1f s", exc, delay)
                # Subscribers may have missed changes: tell them to reload.
                self._reload_all()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    def _heard(self, alert_id: uuid.UUID) -> None:
        self.changes_heard += 1
        if len(self._pending) >= self._max_pending:
            # Far behind (the database is slow to answer): start again from a reload.
            self._pending.clear()
            self._reload_all()
            return
        self._pending[alert_id] = None
        self._wake.set()

    async def _deliver(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                ids = list(self._pending)[: self._batch]
                for alert_id in ids:
                    del self._pending[alert_id]
                if not self._subscribers:
                    continue
                try:
                    async with self._pool.connection() as conn:
                        self.queries += 1
                        changed = await live_sql.changed_alerts(conn, ids)
                        reads = self.fan_out(changed)
                        if reads:
                            await live_sql.log_reads(
                                conn, reads, "live alerts", unless_within=_READ_EVERY
                            )
                except psycopg.Error as exc:
                    log.warning("live streams could not fetch changed alerts (%s); reloading", exc)
                    self._reload_all()

    def fan_out(
        self, changed: Sequence[tuple[AlertRow, ResidentScope]]
    ) -> list[tuple[Viewer, int]]:
        """Hand each alert to the subscribers who may see it; returns who saw whom, to log."""
        reads: list[tuple[Viewer, int]] = []
        for row, scope in changed:
            event: str | None = None
            for subscriber in self._subscribers:
                viewer = subscriber.viewer
                if not may_see(viewer, scope):
                    continue
                if event is None:
                    event = self._render(row)
                subscriber.offer(event)
                # A resident's look at their own alerts is not news to them.
                if viewer.role is not Role.RESIDENT:
                    reads.append((viewer, row.resident_id))
        return reads

    def _reload_all(self) -> None:
        for subscriber in list(self._subscribers):
            subscriber.offer(None)

    def close(self) -> None:
        """The server is stopping: wake every stream so that it ends."""
        self.closed = True
        self._reload_all()

    def subscribe(self, viewer: Viewer, *, credential: str = "") -> Subscription:
        """Start delivering to a new stream of ``viewer``'s, opened with ``credential``."""
        subscription = Subscription(viewer, backlog=self._backlog, credential=credential)
        self._subscribers.add(subscription)
        return subscription

    def signed_out(self, credential: str) -> None:
        """End every stream of this process opened with ``credential``."""
        for subscription in list(self._subscribers):
            if credential and subscription.credential == credential:
                subscription.end()

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop delivering to ``subscription``."""
        self._subscribers.discard(subscription)
