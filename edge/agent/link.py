"""The hub's MQTT session with the server's broker (paho-mqtt).

paho runs its network loop on a thread of its own and reconnects by itself
with a growing delay. Its callbacks only put events on a queue; the agent's
loop takes them off and decides what to do, so the outbox is touched from one
thread only.
"""

from __future__ import annotations

import logging
import queue
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edge.agent.schedule import Backoff
from edge.mqtt_url import broker_address
from edge.protocol import alarm_ack_topic, config_topic

__all__ = [
    "Acknowledged",
    "AlarmAckReceived",
    "ConfigReceived",
    "Connected",
    "Disconnected",
    "Link",
    "LinkEvent",
    "MqttLink",
    "MqttProtocol",
]

MqttProtocol = Literal["5", "3.1.1"]

log = logging.getLogger(__name__)


@dataclass(slots=True, frozen=True)
class Connected:
    """The broker accepted the session."""


@dataclass(slots=True, frozen=True)
class Disconnected:
    """The session dropped; paho reconnects by itself."""

    reason: str


@dataclass(slots=True, frozen=True)
class Acknowledged:
    """The broker has the message published under ``mid`` (PUBACK)."""

    mid: int


@dataclass(slots=True, frozen=True)
class ConfigReceived:
    """The server's retained config for this hub arrived (raw payload, parsed by the agent)."""

    payload: bytes


@dataclass(slots=True, frozen=True)
class AlarmAckReceived:
    """The server confirmed it stored alarms of this hub (raw payload, parsed by the agent)."""

    payload: bytes


LinkEvent = Connected | Disconnected | Acknowledged | ConfigReceived | AlarmAckReceived


class Link(Protocol):
    """What the agent needs of a session with the broker (a fake one in unit tests)."""

    events: queue.Queue[LinkEvent]

    @property
    def connected(self) -> bool: ...

    def start(self) -> None: ...

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> int | None: ...

    def stop(self, *, last_words: tuple[str, bytes] | None = None) -> None: ...


class MqttLink:
    """A persistent QoS 1 session for one hub, with a retained ``offline`` last will."""

    def __init__(
        self,
        *,
        hub: str,
        mqtt_url: str,
        will_topic: str,
        will_payload: bytes,
        keepalive_s: int = 30,
        reconnect_min_s: int = 1,
        reconnect_max_s: int = 60,
        ca_file: Path | None = None,
        client_cert: tuple[Path, Path] | None = None,
        protocol: MqttProtocol = "5",
        session_expiry_s: int = 7 * 24 * 60 * 60,
    ) -> None:
        host, port, username, password, tls = broker_address(mqtt_url)
        self.hub = hub
        self._address = (host, port)
        self._keepalive = keepalive_s
        self._v5 = protocol == "5"
        self._session_expiry_s = session_expiry_s
        self.events: queue.Queue[LinkEvent] = queue.Queue()
        # The hub's id is its client id, so the broker keeps one session per
        # hub, across drops: clean_session=False in MQTT 3.1.1, clean_start=False
        # with a session expiry in MQTT 5 (the embedded demo broker has only 3.1.1).
        if self._v5:
            self._client = mqtt.Client(
                CallbackAPIVersion.VERSION2, client_id=hub, protocol=mqtt.MQTTv5
            )
        else:
            self._client = mqtt.Client(
                CallbackAPIVersion.VERSION2,
                client_id=hub,
                clean_session=False,
                protocol=mqtt.MQTTv311,
            )
        if username:
            self._client.username_pw_set(username, password)
        if tls:
            # A service's own CA (e.g. from `carewatch certs`), else the system's.
            self._client.tls_set(
                ca_certs=str(ca_file) if ca_file else None,
                certfile=str(client_cert[0]) if client_cert else None,
                keyfile=str(client_cert[1]) if client_cert else None,
            )
        self._client.will_set(will_topic, will_payload, qos=1, retain=True)
        self._backoff = Backoff(initial_s=reconnect_min_s, cap_s=reconnect_max_s)
        self._rng = random.Random()
        self._client.reconnect_delay_set(reconnect_min_s, reconnect_max_s)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_message = self._on_message
        self._config_topic = config_topic(hub)
        self._alarm_ack_topic = alarm_ack_topic(hub)
        self._connected = False
        self._stopping = False

    @property
    def connected(self) -> bool:
        """Whether the session is up right now."""
        return self._connected

    def start(self) -> None:
        """Connect in the background; a broker that is down now is retried."""
        if self._v5:
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = self._session_expiry_s
            self._client.connect_async(
                *self._address,
                keepalive=self._keepalive,
                clean_start=False,
                properties=properties,
            )
        else:
            self._client.connect_async(*self._address, keepalive=self._keepalive)
        self._client.loop_start()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> int | None:
        """Publish at QoS 1 and return the message id to match its PUBACK, or None if down."""
        if not self._connected:
            return None
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            log.debug("publish to %s not sent now (%s)", topic, mqtt.error_string(info.rc))
            return None
        return int(info.mid)

    def stop(self, *, last_words: tuple[str, bytes] | None = None) -> None:
        """Say goodbye (``last_words``, e.g. a retained offline status) and disconnect."""
        self._stopping = True
        if last_words is not None and self._connected:
            info = self._client.publish(last_words[0], last_words[1], qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=5)
            except (RuntimeError, ValueError) as exc:
                # The broker went first; the retained last will says offline instead.
                log.info("could not say goodbye to the broker: %s", exc)
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        if reason_code.is_failure:
            log.warning("broker refused %s: %s", self.hub, reason_code)
            return
        log.info("connected to the broker as %s", self.hub)
        self._connected = True
        self._backoff.reset()
        # Retained: the server's latest config arrives on every (re)connect.
        # Subscribed on every connect, in case the broker lost the session; the
        # session keeps confirmations sent while the hub was away.
        client.subscribe([(self._config_topic, 1), (self._alarm_ack_topic, 1)])
        self.events.put(Connected())

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        if self._connected and not self._stopping:
            log.warning("lost the broker (%s); the outbox keeps everything", reason_code)
        self._connected = False
        # paho waits this long before its next attempt: grown and jittered by us.
        delay = self._backoff.next_delay(self._rng)
        client.reconnect_delay_set(delay, delay)  # type: ignore[arg-type]
        self.events.put(Disconnected(str(reason_code)))

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if message.topic == self._config_topic:
            self.events.put(ConfigReceived(bytes(message.payload)))
        elif message.topic == self._alarm_ack_topic:
            self.events.put(AlarmAckReceived(bytes(message.payload)))

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        delay = self._backoff.next_delay(self._rng)
        log.info("broker not reachable; trying again in %.1f s", delay)
        client.reconnect_delay_set(delay, delay)  # type: ignore[arg-type]

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        self.events.put(Acknowledged(mid))
