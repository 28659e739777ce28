"""A scripted driver and a subscriber that records what a hub published."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge.agent.drivers import DriverEvent
from edge.mqtt_url import broker_address
from edge.protocol import Message, SensorHealth, parse_message

M = TypeVar("M", bound=Message)


class ScriptedDriver:
    """Hands out a fixed list of events as the clock passes them."""

    def __init__(self, events: Sequence[DriverEvent]) -> None:
        self._events = sorted(events, key=lambda e: e.ts)
        self._next = 0

    def poll(self, now: datetime) -> Sequence[DriverEvent]:
        start = self._next
        while self._next < len(self._events) and self._events[self._next].ts <= now:
            self._next += 1
        return self._events[start : self._next]

    def sensors(self) -> Sequence[SensorHealth]:
        return [SensorHealth("kitchen-pir", "motion", "kitchen", battery=80.0, link=100.0)]


class Recorder:
    """Subscribes to one hub's topics and keeps every message, decoded."""

    def __init__(self, mqtt_url: str, hub: str) -> None:
        host, port, user, password, _ = broker_address(mqtt_url)
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"recorder-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv311,
        )
        if user:
            self._client.username_pw_set(user, password)

        def on_connect(client: mqtt.Client, *args: object) -> None:
            client.subscribe(f"carewatch/v1/hubs/{hub}/#", qos=1)

        def on_subscribe(*args: object) -> None:
            subscribed.set()

        def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
            decoded = parse_message(msg.topic, bytes(msg.payload))
            with self._lock:
                self.messages.append(decoded)

        self._client.on_connect = on_connect
        self._client.on_subscribe = on_subscribe
        self._client.on_message = on_message
        self._client.connect(host, port)
        self._client.loop_start()
        assert subscribed.wait(10), "recorder could not subscribe"

    def of_type(self, kind: type[M]) -> list[M]:
        with self._lock:
            return [m for m in self.messages if isinstance(m, kind)]

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def eventually(probe: Callable[[], bool], *, within: float = 15.0, what: str = "condition") -> None:
    """Wait until ``probe()`` is true, or fail saying what did not happen."""
    deadline = time.monotonic() + within
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {within} s")
        time.sleep(0.05)
