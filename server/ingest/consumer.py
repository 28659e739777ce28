"""The server's MQTT session: subscribe to every hub's topics and hand each message on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import aiomqtt

from edge.mqtt_url import broker_address
from edge.protocol import TOPIC_PREFIX

__all__ = ["MqttConsumer"]

log = logging.getLogger(__name__)

_MAX_ATTEMPTS = 3

Handler = Callable[[str, bytes, datetime], Awaitable[None]]


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
        transient_errors: tuple[type[Exception], ...] = (),
    ) -> None:
        self._url = url
        self._handler = handler
        self._client_id = client_id
        self._transient = transient_errors
        self.connected = asyncio.Event()

    async def run(self) -> None:
        """Consume until cancelled."""
        host, port, username, password, tls = broker_address(self._url)
        delay = 0.5
        while True:
            try:
                async with aiomqtt.Client(
                    host,
                    port,
                    username=username,
                    password=password,
                    identifier=self._client_id,
                    clean_session=False,
                    protocol=aiomqtt.ProtocolVersion.V311,
                    tls_params=aiomqtt.TLSParameters() if tls else None,
                    keepalive=30,
                ) as client:
                    await client.subscribe(f"{TOPIC_PREFIX}/#", qos=1)
                    log.info("subscribed to %s/# on %s:%d", TOPIC_PREFIX, host, port)
                    self.connected.set()
                    delay = 0.5
                    async for message in client.messages:
                        payload = message.payload
                        data = payload if isinstance(payload, bytes) else str(payload).encode()
                        await self._deliver(str(message.topic), data, datetime.now(UTC))
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                log.warning(
                    "MQTT broker %s:%d unavailable (%s); retrying in %.1f s", host, port, exc, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _deliver(self, topic: str, payload: bytes, received_at: datetime) -> None:
        # A database outage is waited out; a message that keeps failing for any
        # other reason is a bug, logged and skipped so that ingest goes on.
        delay = 0.5
        attempts = 0
        while True:
            try:
                await self._handler(topic, payload, received_at)
                return
            except self._transient as exc:
                log.warning("storing a message failed (%s); retrying in %.1f s", exc, delay)
            except Exception:
                attempts += 1
                if attempts >= _MAX_ATTEMPTS:
                    log.exception(
                        "giving up on a message on %s after %d attempts: %r",
                        topic,
                        attempts,
                        payload[:200],
                    )
                    return
                log.exception("handling a message on %s failed; retrying", topic)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
