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
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import aiomqtt
import paho.mqtt.client as mqtt

from edge.mqtt_url import broker_address
from edge.protocol import TOPIC_PREFIX

__all__ = ["MqttConsumer"]

log = logging.getLogger(__name__)

# Returns what to wait for before acknowledging (None: the message is done).
Handler = Callable[[str, bytes, datetime], Awaitable[Awaitable[None] | None]]


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
        """Handle messages in order; a second task acknowledges each once it is durable."""
        pending: asyncio.Queue[tuple[aiomqtt.Message, Awaitable[None] | None]] = asyncio.Queue()

        async def acknowledge() -> None:
            while True:
                message, durable = await pending.get()
                if durable is not None:
                    await durable
                if message.qos > 0:
                    client._client.ack(message.mid, message.qos)
                self.acknowledged += 1

        acker = asyncio.create_task(acknowledge(), name="mqtt-ack")
        try:
            async for message in client.messages:
                payload = message.payload
                data = payload if isinstance(payload, bytes) else str(payload).encode()
                durable = await self._deliver(str(message.topic), data, datetime.now(UTC))
                await pending.put((message, durable))
        finally:
            # Whatever is not acknowledged yet comes again on the next session.
            acker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await acker

    async def _deliver(
        self, topic: str, payload: bytes, received_at: datetime
    ) -> Awaitable[None] | None:
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
