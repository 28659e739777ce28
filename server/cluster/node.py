"""One server process's part in a cluster: which partitions it holds, taking and letting them go.

Every ``poll_s`` the node counts the live members (each holds a member lock
on its own PostgreSQL session), works out its fair share of the partitions
(:class:`server.cluster.partitions.Share`), lets go of what is past it and
tries to take free ones. A partition is held by an advisory lock on the
node's session: a process that dies, even by SIGKILL, loses the session and
the lock with it, and a survivor takes the partition at its next poll.

Taking a partition: lock it, restore its homes' detectors from their
checkpoints and the readings stored since (DetectorKeeper.take_over), then
re-create its consumer, so its messages not yet acknowledged come first.
Letting go (another member joined, or a stop): stop consuming, save its
homes' state, unlock.

The process that holds the leader lock also runs the cluster's singleton
jobs (escalation, hub and check-in watches, ARC forwarding, pruning).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import psycopg

from server.cluster.partitions import Share, has_nats_safe_id, partition_of
from server.cluster.stream import ClusterStream, Handler, consume
from server.jobs.detector_keeper import DetectorKeeper
from server.store import cluster as cluster_sql
from server.store.pool import DbConn

__all__ = ["ClusterNode", "Takeover"]

log = logging.getLogger(__name__)


@dataclass(slots=True, frozen=True)
class Takeover:
    """A partition this process took: how many homes, and how long restoring and resuming took."""

    partition: int
    homes: int
    seconds: float


class ClusterNode:
    """Holds this process's partitions; start with :meth:`start`, then run :meth:`run`."""

    def __init__(
        self,
        database_url: str,
        stream: ClusterStream,
        keeper: DetectorKeeper,
        handler: Handler,
        *,
        partitions: int,
        hubs: Callable[[], Awaitable[list[str]]],
        lead: Callable[[], None],
        unlead: Callable[[], Awaitable[None]],
        poll_s: float = 2.0,
        name: str = "carewatch-server",
        transient_errors: tuple[type[Exception], ...] = (psycopg.OperationalError,),
    ) -> None:
        self._database_url = database_url
        self._stream = stream
        self._keeper = keeper
        self._handler = handler
        self._partitions = partitions
        self._hubs = hubs
        self._lead = lead
        self._unlead = unlead
        self._poll_s = poll_s
        # The lock session's application_name: who holds what shows in pg_stat_activity.
        self._name = f"{name} cluster"
        self._transient = transient_errors
        # A number for this process among the members (its member lock, and where
        # it starts looking for free partitions).
        self.member = secrets.randbelow(2**31 - 1)
        self._conn: DbConn | None = None
        self._held: dict[int, asyncio.Task[None]] = {}
        # Each held partition's messages waiting in the stream, as its last message said.
        self._pending: dict[int, int] = {}
        self.leading = False
        self.takeovers: list[Takeover] = []

    @property
    def held(self) -> frozenset[int]:
        """The partitions this process holds now."""
        return frozenset(self._held)

    def backlog(self) -> int:
        """Messages of this process's partitions waiting in the stream (ingest's backlog)."""
        return sum(self._pending.get(partition, 0) for partition in self._held)

    def _note_pending(self, partition: int, waiting: int) -> None:
        self._pending[partition] = waiting

    async def start(self) -> None:
        """Join the cluster and take a first share (returns once it is held)."""
        unreachable = [hub for hub in await self._hubs() if not has_nats_safe_id(hub)]
        if unreachable:
            log.warning(
                "%d provisioned hubs have a '.' in their id (%s), which NATS's MQTT gateway "
                "refuses in a topic: they cannot publish to this cluster; re-provision them "
                "with ids without dots",
                len(unreachable),
                ", ".join(unreachable[:5]),
            )
        await self._connect()
        await self.round()

    async def run(self) -> None:
        """Rounds for ever; a lost database session lets go of everything and joins again."""
        while True:
            await asyncio.sleep(self._poll_s)
            try:
                if self._conn is None:
                    await self._connect()
                await self.round()
            except psycopg.OperationalError:
                log.exception("lost the cluster's database session; letting go of every partition")
                await self._lose_everything()
            except Exception:
                # Holding locks without polling would keep partitions from everyone:
                # let go of everything (the locks with the session) and join again.
                log.exception("a cluster round failed; letting go of every partition")
                await self._lose_everything()

    async def _connect(self) -> None:
        self._conn = await psycopg.AsyncConnection.connect(
            self._database_url, autocommit=True, application_name=self._name
        )
        if not await cluster_sql.try_join(self._conn, self.member):
            raise RuntimeError("another process has this cluster member number; start again")

    async def round(self) -> None:
        """One look: let go of what is past the fair share, take free partitions up to it."""
        conn = self._conn
        assert conn is not None, "cluster node not started"
        members, taken = await cluster_sql.count_members(conn)
        share = Share(partitions=self._partitions, members=members)
        for partition, task in list(self._held.items()):
            if task.done():  # its consumer failed (logged): still ours, so resume it
                del self._held[partition]
                await self._take(partition)
        decision = share.decide(held=self.held)
        for partition in decision.release:
            await self._let_go(partition)
        # Lock every partition wanted first, then restore all their homes in one go
        # (one read of the checkpoints, not one per partition), then consume each.
        locked: list[int] = []
        free = [p for p in range(self._partitions) if p not in taken]
        for partition in share.candidates(free=free, rank=self.member):
            if len(locked) >= decision.take:
                break
            if await cluster_sql.take_partition(conn, partition):
                locked.append(partition)
        if locked:
            try:
                await self._take(*locked)
            except (psycopg.OperationalError, asyncio.CancelledError):
                raise
            except Exception:
                log.exception("could not take partitions %s; letting them go", locked)
                for partition in locked:
                    if partition in self._held:
                        continue
                    self._keeper.disown(await self._homes_of(partition))
                    await cluster_sql.release_partition(conn, partition)
        if not self.leading and await cluster_sql.try_lead(conn):
            self.leading = True
            log.info("cluster: this process runs the singleton jobs now")
            self._lead()

    async def _take(self, *partitions: int) -> None:
        """Restore the homes of ``partitions`` (locked by this session), then consume each."""
        began = time.monotonic()
        everyone = await self._hubs()
        homes = {
            partition: [h for h in everyone if partition_of(h, self._partitions) == partition]
            for partition in partitions
        }
        await self._keeper.take_over([hub for hubs in homes.values() for hub in hubs])
        for partition in partitions:
            subscription = await self._stream.take_partition(partition)
            self._held[partition] = self._spawn(
                f"partition-{partition}",
                consume(
                    subscription,
                    self._handler,
                    transient_errors=self._transient,
                    on_message=functools.partial(self._stream.check_partition, partition),
                    on_pending=functools.partial(self._note_pending, partition),
                ),
            )
            took = Takeover(partition, len(homes[partition]), time.monotonic() - began)
            self.takeovers.append(took)
            log.info(
                "cluster: took partition %d (%d homes) in %.2f s",
                partition,
                took.homes,
                took.seconds,
            )

    async def _let_go(self, partition: int) -> None:
        task = self._held.pop(partition)
        self._pending.pop(partition, None)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await self._keeper.release(await self._homes_of(partition))
        if self._conn is not None:
            await cluster_sql.release_partition(self._conn, partition)
        log.info("cluster: let go of partition %d", partition)

    async def _homes_of(self, partition: int) -> list[str]:
        return [
            hub for hub in await self._hubs() if partition_of(hub, self._partitions) == partition
        ]

    async def _lose_everything(self) -> None:
        # The locks went with the session: another process may hold these partitions
        # already, so stop at once; nothing is saved (the new holder restores).
        for task in self._held.values():
            task.cancel()
        for task in self._held.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._held.clear()
        if self.leading:
            self.leading = False
            await self._unlead()
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                await self._conn.close()
        self._conn = None

    async def stop(self) -> None:
        """Let go of every partition (saved first), so that the others take them at once."""
        for partition in list(self._held):
            try:
                await self._let_go(partition)
            except psycopg.Error:
                log.exception("could not let go of partition %d cleanly", partition)
        if self.leading:
            self.leading = False
            await self._unlead()
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                await self._conn.close()
        self._conn = None

    def _spawn(self, name: str, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=name)
        task.add_done_callback(self._died)
        return task

    @staticmethod
    def _died(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("cluster: %s stopped: %r", task.get_name(), task.exception())
