"""The zigbee2mqtt driver: subscribes on the hub's local broker and hands events to the agent."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge.agent.drivers import Clock, DriverEvent, wall_clock
from edge.agent.zigbee import DeviceSpec, Zigbee2Mqtt
from edge.mqtt_url import broker_address
from edge.protocol import SensorHealth

if TYPE_CHECKING:
    from edge.agent.settings import AgentSettings

__all__ = ["Zigbee2MqttDriver", "from_settings"]

log = logging.getLogger(__name__)


class Zigbee2MqttDriver:
    """Listens to ``zigbee2mqtt/#`` on the local broker; ``poll`` returns what arrived since."""

    def __init__(
        self,
        devices: Sequence[DeviceSpec],
        *,
        local_mqtt_url: str = "mqtt://127.0.0.1:1883",
        base_topic: str = "zigbee2mqtt",
        clock: Clock = wall_clock,
    ) -> None:
        self._mapper = Zigbee2Mqtt(devices, base_topic=base_topic)
        self._clock = clock
        self._base_topic = base_topic
        self._lock = threading.Lock()
        self._pending: list[DriverEvent] = []
        host, port, username, password, tls = broker_address(local_mqtt_url)
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"carewatch-z2m-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv311,
        )
        if username:
            self._client.username_pw_set(username, password)
        if tls:
            self._client.tls_set()
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self.subscribed = threading.Event()
        self._client.connect_async(host, port)
        self._client.loop_start()

    def poll(self, now: datetime) -> Sequence[DriverEvent]:
        """Events received since the last poll, oldest first."""
        with self._lock:
            events, self._pending = self._pending, []
        return events

    def sensors(self) -> Sequence[SensorHealth]:
        """Each mapped sensor's battery and link quality as last reported."""
        with self._lock:
            return self._mapper.health()

    def close(self) -> None:
        """Leave the local broker."""
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("local broker refused the zigbee2mqtt driver: %s", reason)
            return
        client.subscribe(f"{self._base_topic}/#", qos=1)

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any
    ) -> None:
        # Only once the broker has the subscription: a message sent before is not ours.
        self.subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        now = self._clock()
        with self._lock:
            self._pending.extend(self._mapper.feed(message.topic, bytes(message.payload), now))


def from_settings(settings: AgentSettings) -> Zigbee2MqttDriver:
    """The ``zigbee2mqtt`` entry of ``carewatch.drivers``: the hub's sensor map on its broker."""
    if not settings.sensors:
        raise ValueError("the zigbee2mqtt driver needs a sensor map: [[sensors]] in the config")
    devices = [DeviceSpec(s.device, s.sensor, s.kind, s.room) for s in settings.sensors]
    log.info("zigbee2mqtt on %s: %d devices mapped", settings.local_mqtt_url, len(devices))
    return Zigbee2MqttDriver(
        devices, local_mqtt_url=settings.local_mqtt_url, base_topic=settings.zigbee_base_topic
    )
