"""Fan out alert changes, announced by PostgreSQL NOTIFY, to every open live stream."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

import psycopg

from server.db.alerts import ALERT_CHANNEL

__all__ = ["AlertFeed"]

log = logging.getLogger(__name__)


class AlertFeed:
    """One LISTEN connection per process; each subscriber gets the ids of changed alerts.

    NOTIFY is sent on commit by whichever process changed the alert, so a
    console sees changes made by the ingest path and by other API servers.
    """

    def __init__(self, database_url: str, *, max_backlog: int = 1_000) -> None:
        self._url = database_url
        self._max_backlog = max_backlog
        self._subscribers: set[asyncio.Queue[uuid.UUID | None]] = set()
        self.listening = asyncio.Event()
        self.closed = False

    async def run(self) -> None:
        """Listen until cancelled, reconnecting if the database goes away."""
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
                            self._publish(uuid.UUID(notice.payload))
            except psycopg.OperationalError as exc:
                self.listening.clear()
                log.warning("alert feed lost the database (%s); retrying in %.1f s", exc, delay)
                # Subscribers may have missed changes: tell them to reload.
                self._publish(None)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    def _publish(self, alert_id: uuid.UUID | None) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(alert_id)
            except asyncio.QueueFull:
                # A stalled client must not hold memory; None makes it reload everything.
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(None)

    def close(self) -> None:
        """The server is stopping: wake every stream so that it ends."""
        self.closed = True
        self._publish(None)

    def subscribe(self) -> asyncio.Queue[uuid.UUID | None]:
        """A queue of changed alert ids; ``None`` means "reload everything"."""
        queue: asyncio.Queue[uuid.UUID | None] = asyncio.Queue(maxsize=self._max_backlog)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[uuid.UUID | None]) -> None:
        """Stop delivering to ``queue``."""
        self._subscribers.discard(queue)
