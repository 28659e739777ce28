"""The cluster's JetStream: one work-queue stream of partitioned readings and status, one of alarms.

Hubs publish MQTT to NATS's MQTT gateway; the broker's mappings
(:func:`server.cluster.partitions.nats_mappings`) put each hub's readings and
status on its partition's subjects, where a work-queue stream keeps them
until a server acknowledges them. Each partition has one durable consumer,
pulled by the one process that holds the partition's lock; alarms have a
stream and a consumer of their own, pulled by every process at once.

A message is acknowledged only once what it carries is committed, in the
order it came. A process that takes a partition over re-creates its consumer,
so every message not acknowledged comes again at once (not after the
acknowledgement timeout), in order; (hub, seq) and each alarm's id make those
that had in fact been stored harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as Nats
from nats.aio.msg import Msg
from nats.js import JetStreamContext, JetStreamManager
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, RetentionPolicy, StreamConfig

from server.cluster.partitions import (
    ALARM_SUBJECTS,
    PARTITION_PREFIX,
    partition_of,
    partition_subjects,
    topic_of,
)
from server.loop_share import LoopShare

__all__ = ["ClusterStream", "consume"]

log = logging.getLogger(__name__)

# Returns what to wait for before acknowledging (None: the message is done); see MqttConsumer.
Handler = Callable[[str, bytes, datetime], Awaitable[Awaitable[None] | None]]

_ALARM_CONSUMER = "carewatch-alarms"


def _partition_consumer(partition: int) -> str:
    return f"carewatch-p{partition}"


class ClusterStream:
    """The connection to NATS, the two streams, and each partition's consumer."""

    def __init__(
        self,
        url: str,
        *,
        partitions: int,
        stream: str = "CAREWATCH",
        ack_wait_s: float = 30.0,
        alarm_ack_wait_s: float = 5.0,
        max_ack_pending: int = 20_000,
    ) -> None:
        self._url = url
        self._partitions = partitions
        self._stream = stream
        self._alarm_stream = f"{stream}_ALARMS"
        self._ack_wait_s = ack_wait_s
        # An alarm fetched by a process that then died comes again after this long.
        self._alarm_ack_wait_s = alarm_ack_wait_s
        self._max_ack_pending = max_ack_pending
        self._nats: Nats | None = None
        self._js: JetStreamContext | None = None
        self._jsm: JetStreamManager | None = None
        self.connected = asyncio.Event()

    @property
    def js(self) -> JetStreamContext:
        """JetStream, once connected."""
        assert self._js is not None, "cluster stream not connected"
        return self._js

    @property
    def jsm(self) -> JetStreamManager:
        """JetStream's management API (streams, consumers), once connected."""
        assert self._jsm is not None, "cluster stream not connected"
        return self._jsm

    async def connect(self) -> None:
        """Connect (reconnecting for ever after) and make sure both streams exist."""
        try:
            self._nats = nc = await nats.connect(
                self._url,
                name="carewatch-server",
                max_reconnect_attempts=-1,
                disconnected_cb=self._disconnected,
                reconnected_cb=self._reconnected,
            )
        except (OSError, nats.errors.Error) as exc:
            raise RuntimeError(
                f"cannot reach NATS at {self._url} ({exc}); check CAREWATCH_CLUSTER_NATS_URL "
                "and that nats-server runs with JetStream (deploy/nats/carewatch.conf)"
            ) from exc
        self._js = nc.jetstream()
        self._jsm = jsm = nc.jsm()
        for name, subjects in (
            (self._stream, [f"{PARTITION_PREFIX}.>"]),
            (self._alarm_stream, [ALARM_SUBJECTS]),
        ):
            config = StreamConfig(
                name=name, subjects=subjects, retention=RetentionPolicy.WORK_QUEUE
            )
            try:
                await jsm.stream_info(name)
            except nats.js.errors.NotFoundError:
                # Two processes starting together both try; the second finds it made.
                with contextlib.suppress(nats.js.errors.BadRequestError):
                    await jsm.add_stream(config)
        self.connected.set()

    async def _disconnected(self) -> None:
        self.connected.clear()
        log.warning("lost the connection to NATS at %s; reconnecting", self._url)

    async def _reconnected(self) -> None:
        self.connected.set()
        log.info("connected to NATS at %s again", self._url)

    async def close(self) -> None:
        """Drain and close the connection."""
        if self._nats is not None and not self._nats.is_closed:
            with contextlib.suppress(nats.errors.Error):
                await self._nats.close()

    async def take_partition(self, partition: int) -> JetStreamContext.PullSubscription:
        """This process's subscription to ``partition``: its consumer made anew from the first
        message not acknowledged (whatever the last holder had in hand comes again now)."""
        durable = _partition_consumer(partition)
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await self.jsm.delete_consumer(self._stream, durable)
        await self.jsm.add_consumer(
            self._stream,
            ConsumerConfig(
                durable_name=durable,
                filter_subject=partition_subjects(partition),
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=self._ack_wait_s,
                max_ack_pending=self._max_ack_pending,
            ),
        )
        return await self.js.pull_subscribe_bind(durable=durable, stream=self._stream)

    async def alarms(self) -> JetStreamContext.PullSubscription:
        """This process's share of the one alarm consumer (every process pulls from it)."""
        with contextlib.suppress(nats.js.errors.BadRequestError):
            await self.jsm.add_consumer(
                self._alarm_stream,
                ConsumerConfig(
                    durable_name=_ALARM_CONSUMER,
                    deliver_policy=DeliverPolicy.ALL,
                    ack_policy=AckPolicy.EXPLICIT,
                    ack_wait=self._alarm_ack_wait_s,
                ),
            )
        return await self.js.pull_subscribe_bind(durable=_ALARM_CONSUMER, stream=self._alarm_stream)

    def publish_nowait(self, topic: str, payload: bytes) -> bool:
        """Send to a hub's MQTT topic through NATS without waiting (what is safe to lose:
        alarm confirmations). False when not connected now."""
        nc = self._nats
        if nc is None or not nc.is_connected:
            return False
        subject = topic.replace("/", ".")
        task = asyncio.get_running_loop().create_task(nc.publish(subject, payload))
        task.add_done_callback(_log_failure)
        return True

    def check_partition(self, partition: int, subject: str) -> None:
        """Warn when the broker's partition of a hub is not this one (the counts differ)."""
        hub = subject.split(".")[3]
        if partition_of(hub, self._partitions) != partition:
            log.error(
                "hub %s came on partition %d, not %d: the broker's partition() mapping and "
                "CAREWATCH_CLUSTER_PARTITIONS (%d) must give the same number of partitions",
                hub,
                partition,
                partition_of(hub, self._partitions),
                self._partitions,
            )


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("a confirmation to a hub was not sent: %s", task.exception())


async def consume(
    subscription: JetStreamContext.PullSubscription,
    handler: Handler,
    *,
    transient_errors: tuple[type[Exception], ...],
    batch: int = 200,
    on_message: Callable[[str], None] | None = None,
    on_pending: Callable[[int], None] | None = None,
    slice_s: float = 0.003,
) -> None:
    """Handle messages in order; a second task acknowledges each once it is durable. Until cancelled.

    ``on_pending`` is told, with each message, how many more of the consumer's
    messages wait in the stream behind it (how far behind this process is).

    Handling a message rarely waits for anything (queued for the writer, not
    written), so a fetched batch would run through without giving the loop
    back: 200 messages of a backlog, 100-200 ms, again and again while a
    partition taken over catches up, and every step of an alarm being raised
    on the same loop waited behind each. The loop is given back every
    ``slice_s`` of handling instead.
    """
    pending: asyncio.Queue[tuple[Msg, Awaitable[None] | None]] = asyncio.Queue()

    async def acknowledge() -> None:
        while True:
            msg, durable = await pending.get()
            if durable is not None:
                await durable
            await msg.ack()

    acker = asyncio.create_task(acknowledge(), name="nats-ack")
    try:
        while True:
            try:
                messages = await subscription.fetch(batch, timeout=1.0)
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            share = LoopShare(slice_s)
            for msg in messages:
                await share.step()
                topic = topic_of(msg.subject)
                if on_message is not None:
                    on_message(msg.subject)
                metadata = msg.metadata
                if on_pending is not None:
                    on_pending(metadata.num_pending)
                # The broker's time of storing it: the same on every delivery.
                received_at = metadata.timestamp or datetime.now(UTC)
                durable = await _deliver(handler, topic, msg.data, received_at, transient_errors)
                await pending.put((msg, durable))
    finally:
        # Whatever is not acknowledged comes again to the partition's next holder.
        acker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await acker


async def _deliver(
    handler: Handler,
    topic: str,
    payload: bytes,
    received_at: datetime,
    transient: tuple[type[Exception], ...],
) -> Awaitable[None] | None:
    # As MqttConsumer: a database outage is waited out, any other failure is the message's own.
    delay = 0.5
    while True:
        try:
            return await handler(topic, payload, received_at)
        except transient as exc:
            log.warning("storing a message failed (%s); retrying in %.1f s", exc, delay)
        except Exception:
            log.exception("giving up on a message on %s: %r", topic, payload[:200])
            return None
        await asyncio.sleep(delay)
        delay = min(delay * 2, 30.0)
