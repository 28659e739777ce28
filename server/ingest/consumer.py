"""The server's MQTT session: subscribe to every hub's topics and hand each message on.

Messages are acknowledged to the broker (PUBACK) only once what they carry is
committed to the database, and in the order they arrived, as MQTT requires.
A server killed at any moment leaves its unacknowledged messages with the
broker, which delivers them again to the persistent session; (hub, seq)
de-duplicates what had in fact been stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import struct
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import aiomqtt
import paho.mqtt.client as mqtt

from edge.mqtt_url import broker_address
from edge.protocol import TOPIC_PREFIX
from server.loop_share import LoopShare

__all__ = ["MqttConsumer"]

log = logging.getLogger(__name__)

# Messages handled back to back before the loop is given back: a burst of backlog
# batches (hundreds of readings each, a few ms apiece) awaits nothing that suspends,
# and would hold the alarm session's reader behind it for seconds.
_SLICE_S = 0.005

# Returns what to wait for before acknowledging (None: the message is done).
Handler = Callable[[str, bytes, datetime], Awaitable["asyncio.Future[None] | None"]]


class MqttConsumer:
    """Keeps a persistent session with the broker and calls ``handler`` for every message.

    Reconnects with backoff when the broker goes away; messages queued for the
    session while it was away arrive after it comes back.
    """

    def __init__(
        self,
        url: str,
        handler: Handler,
        *,
        client_id: str,
        topics: tuple[str, ...] = (f"{TOPIC_PREFIX}/#",),
        transient_errors: tuple[type[Exception], ...] = (),
        on_connection: Callable[[bool], None] | None = None,
    ) -> None:
        self._url = url
        self._handler = handler
        self._client_id = client_id
        self._topics = topics
        self._on_connection = on_connection or (lambda up: None)
        self._transient = transient_errors
        self.connected = asyncio.Event()
        self.acknowledged = 0
        self._client: aiomqtt.Client | None = None

    async def run(self) -> None:
        """Consume until cancelled."""
        host, port, username, password, tls = broker_address(self._url)
        delay = 0.5
        while True:
            try:
                client = aiomqtt.Client(
                    host,
                    port,
                    username=username,
                    password=password,
                    identifier=self._client_id,
                    clean_session=False,
                    protocol=aiomqtt.ProtocolVersion.V311,
                    tls_params=aiomqtt.TLSParameters() if tls else None,
                    keepalive=30,
                )
                # aiomqtt has no switch for it; paho's own: PUBACK only when we say.
                client._client.manual_ack_set(True)
                async with client:
                    for topic in self._topics:
                        await client.subscribe(topic, qos=1)
                    log.info("subscribed to %s on %s:%d", ", ".join(self._topics), host, port)
                    self._client = client
                    self.connected.set()
                    self._on_connection(True)
                    delay = 0.5
                    try:
                        await self._consume(client)
                    finally:
                        self._client = None
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                self._on_connection(False)
                log.warning(
                    "MQTT broker %s:%d unavailable (%s); retrying in %.1f s", host, port, exc, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    def waiting(self) -> int:
        """Messages the broker has delivered that are not handled yet (0 without a connection)."""
        client = self._client
        return 0 if client is None else len(client.messages)

    def publish_nowait(self, topic: str, payload: bytes) -> bool:
        """Publish at QoS 1 on this session's connection without waiting for the PUBACK.

        False when there is no connection now; the message is not kept for a
        later one (what is sent this way must be safe to lose: see
        server/ingest/alarm_confirm.py).
        """
        client = self._client
        if client is None or not self.connected.is_set():
            return False
        # aiomqtt's publish() waits for the PUBACK; paho's own only queues the
        # packet on this event loop's socket (aiomqtt ignores a PUBACK nobody awaits).
        info = client._client.publish(topic, payload, qos=1)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    async def _consume(self, client: aiomqtt.Client) -> None:
        """Handle messages in order; a second task acknowledges them once they are durable."""
        acks = _Acknowledgements(client._client)
        acker = asyncio.create_task(acks.run(), name="mqtt-ack")
        _read_in_bursts(client)
        # aiomqtt's iterator makes a task and an asyncio.wait for every message: it is
        # asked only when nothing is queued, and what the socket's bursts queued is
        # taken straight from its queue.
        queued: asyncio.Queue[aiomqtt.Message] = client._queue
        share = LoopShare(_SLICE_S)
        try:
            async for first in client.messages:
                message: aiomqtt.Message | None = first
                while message is not None:
                    payload = message.payload
                    data = payload if isinstance(payload, bytes) else str(payload).encode()
                    durable = await self._deliver(message.topic.value, data, datetime.now(UTC))
                    acks.put(message.mid, message.qos, durable)
                    await share.step()
                    message = None if queued.empty() else queued.get_nowait()
                self.acknowledged = acks.sent
        finally:
            # Whatever is not acknowledged yet comes again on the next session.
            self.acknowledged = acks.sent
            acker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await acker

    async def _deliver(
        self, topic: str, payload: bytes, received_at: datetime
    ) -> asyncio.Future[None] | None:
        # A database outage is waited out. Any other failure is the message's own
        # (the handler dead-letters what it cannot handle): retrying it with sleeps
        # would only hold up every message behind it, another home's alarm among them.
        delay = 0.5
        while True:
            try:
                return await self._handler(topic, payload, received_at)
            except self._transient as exc:
                log.warning("storing a message failed (%s); retrying in %.1f s", exc, delay)
            except Exception:
                log.exception("giving up on a message on %s: %r", topic, payload[:200])
                return None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)


# MQTT 3.1.1's PUBACK: the packet type, the remaining length (2) and the message id.
_PUBACK = struct.Struct("!BBH")
_PUBACK_TYPE = 0x40
# Packets read from the socket in one go before other callbacks get the loop.
_PACKETS_PER_READ = 64


class _Acknowledgements:
    """PUBACKs in arrival order, each once its message is durable, many in one write.

    A flush commits hundreds of messages at once: their PUBACKs go to the socket
    as one packet queued with paho (4 bytes each), not hundreds of paho calls,
    writer registrations and send() calls.
    """

    def __init__(self, paho: mqtt.Client) -> None:
        self._paho = paho
        self._pending: deque[tuple[int, int, asyncio.Future[None] | None]] = deque()
        self._wake = asyncio.Event()
        self.sent = 0

    def put(self, mid: int, qos: int, durable: asyncio.Future[None] | None) -> None:
        """Acknowledge ``mid`` after every message before it, once ``durable`` is done."""
        self._pending.append((mid, qos, durable))
        self._wake.set()

    async def run(self) -> None:
        """Acknowledge for ever (until cancelled)."""
        pending = self._pending
        while True:
            await self._wake.wait()
            self._wake.clear()
            while pending:
                ready = bytearray()
                count = 0
                while pending:
                    mid, qos, durable = pending[0]
                    if durable is not None and not durable.done():
                        break
                    pending.popleft()
                    count += 1
                    if qos > 0:
                        ready += _PUBACK.pack(_PUBACK_TYPE, 2, mid)
                if ready:
                    # paho's own queue, so they never cut into a packet it is writing.
                    self._paho._packet_queue(_PUBACK_TYPE, bytes(ready), 0, 0)
                self.sent += count
                if pending:
                    head = pending[0][2]
                    assert head is not None
                    await head


def _read_in_bursts(client: aiomqtt.Client) -> None:
    """Read what the socket holds, up to ``_PACKETS_PER_READ`` packets, per readiness.

    aiomqtt reads one packet each time the socket is readable: one pass of the
    event loop (an epoll wait and its callbacks) per message. The socket stays
    readable while data is left (level-triggered), so stopping early loses nothing.
    """
    paho = client._client
    sock = paho.socket()
    if sock is None:
        return
    queued = client._queue
    disconnected = client._disconnected
    loop = asyncio.get_running_loop()

    def read() -> None:
        try:
            for _ in range(_PACKETS_PER_READ):
                before = queued.qsize()
                paho.loop_read()
                # No message came of it: the socket is drained (or held something else).
                if queued.qsize() == before or paho.socket() is None:
                    break
            # A TLS socket can hold decrypted bytes that epoll does not see (as aiomqtt
            # checks too): read on at the loop's next pass.
            tls = paho.socket()
            if isinstance(tls, ssl.SSLSocket) and tls.pending() > 0:
                loop.call_soon(read)
        except Exception as exc:
            # As aiomqtt's own reader: a broken connection ends the session.
            if not disconnected.done():
                disconnected.set_exception(exc)

    loop.remove_reader(sock.fileno())
    loop.add_reader(sock.fileno(), read)
