"""Helpers for tests that drive a real server: provisioning, publishing, polling the API."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import SecretStr

from edge.mqtt_url import broker_address
from edge.protocol import (
    Alarm,
    AlarmKind,
    HubState,
    HubStatus,
    Reading,
    ReadingKind,
    ReadingsBatch,
    alarm_topic,
    encode,
    readings_topic,
    status_topic,
)
from server.passwords import hash_password
from server.runtime import CarewatchServer
from server.settings import ServerSettings

ADMIN_PASSWORD = "test-admin-password"


def provision(
    database_url: str, hub: str, resident: str, *, timezone: str = "Europe/London"
) -> None:
    """Add a resident and their hub straight in the database."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "INSERT INTO residents (name, timezone) VALUES (%s, %s)"
            " ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id",
            (resident, timezone),
        ).fetchone()
        assert row is not None
        conn.execute(
            "INSERT INTO hubs (id, resident_id, password_hash) VALUES (%s, %s, %s)",
            (hub, row[0], hash_password("unused")),
        )


def unique_hub(prefix: str = "hub") -> str:
    """A hub id no other test uses, so tests can share a broker."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class Publisher:
    """A plain MQTT client that publishes at QoS 1 and waits for each PUBACK."""

    def __init__(self, mqtt_url: str, *, client_id: str | None = None) -> None:
        host, port, user, password, _ = broker_address(mqtt_url)
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"test-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv311,
        )
        if user:
            self._client.username_pw_set(user, password)
        self._client.connect(host, port)
        self._client.loop_start()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(10)
        assert info.is_published(), f"no PUBACK for {topic}"

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def press_pendant(mqtt_url: str, hub: str) -> None:
    """The resident presses their pendant now."""
    publisher = Publisher(mqtt_url)
    try:
        alarm = Alarm(hub, str(uuid.uuid4()), "pendant", AlarmKind.PENDANT, datetime.now(UTC))
        publisher.publish(alarm_topic(hub), encode(alarm))
    finally:
        publisher.close()


def publish_day_then_silence(mqtt_url: str, hub: str, *, silent_for: timedelta) -> datetime:
    """Movement every few minutes for two hours, then nothing; a heartbeat now. Returns now."""
    now = datetime.now(UTC)
    last = now - silent_for
    readings = tuple(
        Reading("lounge-pir", ReadingKind.MOTION, last - timedelta(minutes=4 * i), 1.0)
        for i in reversed(range(30))
    )
    publisher = Publisher(mqtt_url)
    try:
        publisher.publish(readings_topic(hub), encode(ReadingsBatch(hub, 1, last, readings)))
        publisher.publish(
            status_topic(hub), encode(HubStatus(hub, HubState.ONLINE, now, watermark=now))
        )
    finally:
        publisher.close()
    return now


def heartbeat(mqtt_url: str, hub: str) -> None:
    """A heartbeat that moves the hub's watermark to now."""
    now = datetime.now(UTC)
    publisher = Publisher(mqtt_url)
    try:
        publisher.publish(
            status_topic(hub), encode(HubStatus(hub, HubState.ONLINE, now, watermark=now))
        )
    finally:
        publisher.close()


@asynccontextmanager
async def running_server(
    database_url: str, mqtt_url: str, **settings: Any
) -> AsyncIterator[CarewatchServer]:
    """A server on the test's database and broker; its broker sessions are removed after."""
    client_id = f"carewatch-test-{uuid.uuid4().hex[:8]}"
    configured = ServerSettings(
        http_port=0,
        admin_password=SecretStr(ADMIN_PASSWORD),
        mqtt_client_id=client_id,
        **settings,
    )
    try:
        async with CarewatchServer(
            configured, database_url=database_url, mqtt_url=mqtt_url
        ) as running:
            yield running
    finally:
        forget_session(mqtt_url, client_id)


async def token(client: httpx.AsyncClient, *, password: str = ADMIN_PASSWORD) -> str:
    response = await client.post(
        "/api/v1/auth/token", data={"username": "admin", "password": password}
    )
    response.raise_for_status()
    value: str = response.json()["access_token"]
    return value


async def wait_for(
    probe: Callable[[], Any], *, within: float = 20.0, what: str = "condition"
) -> Any:
    """Poll an async ``probe`` until it returns something truthy."""
    deadline = time.monotonic() + within
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")
        await asyncio.sleep(0.1)


async def eventually(probe: Callable[[], object], what: str, *, within: float = 20.0) -> Any:
    """Poll a plain (not async) ``probe`` until it returns something truthy."""

    async def check() -> object:
        return probe()

    return await wait_for(check, within=within, what=what)


def forget_session(mqtt_url: str, client_id: str) -> None:
    """Delete the persistent sessions a test left on a shared broker (a server has two)."""
    host, port, user, password, _ = broker_address(mqtt_url)
    for session in (client_id, f"{client_id}-alarms"):
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=session,
            clean_session=True,
            protocol=mqtt.MQTTv311,
        )
        if user:
            client.username_pw_set(user, password)
        client.connect(host, port)
        client.disconnect()
