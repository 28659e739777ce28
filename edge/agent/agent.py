"""The hub agent's loop: read the drivers, keep everything in the outbox, send it on.

Each step polls the driver up to the hub's clock, stores the readings in the
outbox, publishes any alarm at once, publishes a batch when the flush policy
says so, and a heartbeat when one is due. A batch leaves the outbox at the
broker's PUBACK, an alarm only when the server confirms it stored it
(edge/agent/alarm_courier.py); after a reconnect or a restart, whatever is
still there goes out again under the same numbers and ids, alarms first, and
the server de-duplicates.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from edge.agent.alarm_courier import AlarmCourier
from edge.agent.drivers import AlarmTrigger, Clock, Driver, wall_clock
from edge.agent.link import (
    Acknowledged,
    AlarmAckReceived,
    ConfigReceived,
    Connected,
    Disconnected,
    Link,
    MqttLink,
    MqttProtocol,
)
from edge.agent.outbox import Outbox
from edge.agent.schedule import AlarmResend, FlushPolicy, HeartbeatSchedule
from edge.protocol import (
    Alarm,
    AlarmAck,
    HubConfig,
    HubState,
    HubStatus,
    ProtocolError,
    Reading,
    SensorHealth,
    alarm_ack_topic,
    alarm_topic,
    config_topic,
    encode,
    parse_message,
    readings_topic,
    status_topic,
    validate_hub_id,
)

__all__ = ["FIRMWARE_VERSION", "Agent", "placed"]

log = logging.getLogger(__name__)


def _firmware_version() -> str:
    try:
        return version("carewatch")
    except PackageNotFoundError:  # running from a source tree
        return "0+source"


FIRMWARE_VERSION = _firmware_version()
# A watermark must sit strictly before the oldest reading still on its way.
_BEFORE = timedelta(milliseconds=1)


def placed(sensors: Iterable[SensorHealth], config: HubConfig | None) -> tuple[SensorHealth, ...]:
    """Each sensor's health with its room from the server's map, when the map has it.

    The map an admin edits on the server's page wins over the hub's own file, so
    every server process (and the admin page) hears the same rooms in the heartbeat;
    a sensor the map lacks keeps the room the hub's file gives it.

    >>> from edge.protocol import SensorSpec
    >>> config = HubConfig(60, (SensorSpec("hall-pir", "motion", "landing"),))
    >>> [s.room for s in placed([SensorHealth("hall-pir", "motion", "hall"),
    ...     SensorHealth("door", "contact", "front_door")], config)]
    ['landing', 'front_door']
    """
    rooms = {spec.sensor: spec.room for spec in config.sensors} if config else {}
    return tuple(replace(s, room=rooms[s.sensor]) if s.sensor in rooms else s for s in sensors)


class Agent:
    """One hub: a driver, an outbox on disk and a session with the broker."""

    def __init__(
        self,
        *,
        hub_id: str,
        driver: Driver,
        outbox_path: Path,
        mqtt_url: str,
        clock: Clock = wall_clock,
        heartbeat_s: float = 60.0,
        flush: FlushPolicy | None = None,
        max_batches_in_flight: int = 8,
        tick_s: float = 0.1,
        monotonic: Callable[[], float] = time.monotonic,
        ca_file: Path | None = None,
        max_outbox_readings: int | None = 2_000_000,
        mqtt_protocol: MqttProtocol = "5",
        client_cert: tuple[Path, Path] | None = None,
        alarm_resend: AlarmResend | None = None,
        link: Link | None = None,
    ) -> None:
        self.hub = validate_hub_id(hub_id)
        self._driver = driver
        self._clock = clock
        self._monotonic = monotonic
        self._flush = flush or FlushPolicy()
        self._max_in_flight = max_batches_in_flight
        self._tick_s = tick_s
        self._heartbeat = HeartbeatSchedule(timedelta(seconds=heartbeat_s))
        self.outbox = Outbox(
            outbox_path,
            hub=self.hub,
            first_seq=int(time.time() * 1000),
            max_readings=max_outbox_readings,
        )
        self._alarms = AlarmCourier(self.outbox, alarm_resend or AlarmResend())
        # ``link`` is for tests that drive the agent without a broker.
        self._link: Link = link or MqttLink(
            hub=self.hub,
            mqtt_url=mqtt_url,
            will_topic=status_topic(self.hub),
            will_payload=encode(HubStatus(self.hub, HubState.OFFLINE, clock())),
            ca_file=ca_file,
            protocol=mqtt_protocol,
            client_cert=client_cert,
        )
        self._started = monotonic()
        self.config: HubConfig | None = None
        if (saved := self.outbox.saved_config()) is not None:
            self._apply_config(saved)
        # What is with the broker now, by PUBACK id: ("batch", seq) or ("alarm", id).
        self._in_flight: dict[int, tuple[str, int | str]] = {}
        self._waiting_since: float | None = None
        # Up once the agent has handled the link's Connected event (and resent
        # what was pending), so nothing new overtakes the resend.
        self._session_up = False
        self.batches_acknowledged = 0
        self.alarms_confirmed = 0

    @property
    def connected(self) -> bool:
        """Whether the hub has a session with the broker."""
        return self._session_up and self._link.connected

    def start(self) -> None:
        """Open the session in the background; readings are kept meanwhile."""
        log.info(
            "hub %s starting; %d readings and alarms wait in the outbox",
            self.hub,
            self.outbox.depth(),
        )
        self._link.start()

    def run(self, stop: threading.Event) -> None:
        """Step until ``stop`` is set."""
        while not stop.is_set():
            self.step()
            stop.wait(self._tick_s)

    def stop(self) -> None:
        """Send a last offline status, disconnect and close the outbox."""
        offline = HubStatus(self.hub, HubState.OFFLINE, self._clock())
        self._link.stop(last_words=(status_topic(self.hub), encode(offline)))
        self.outbox.close()

    def step(self) -> None:
        """One turn of the loop."""
        self._handle_link_events()
        now = self._clock()
        readings: list[Reading] = []
        for event in self._driver.poll(now):
            if isinstance(event, AlarmTrigger):
                self._raise_alarm(event)
            else:
                readings.append(event)
        if readings:
            self.outbox.add_readings(readings)
            if self._waiting_since is None:
                self._waiting_since = self._monotonic()
        if self.connected:
            # Alarms first: an alarm due again never waits behind readings.
            for alarm in self._alarms.due(now_s=self._monotonic(), now=now):
                self._send_alarm(alarm)
            self._send_batches()
            if self._heartbeat.due(now):
                self._send_heartbeat(now)

    def _raise_alarm(self, trigger: AlarmTrigger) -> None:
        alarm = Alarm(self.hub, str(uuid.uuid4()), trigger.sensor, trigger.kind, trigger.ts)
        log.warning("alarm: %s from %s", alarm.kind.value, alarm.sensor)
        self._alarms.raised(alarm)
        if self.connected:
            self._send_alarm(alarm)  # else it goes first when the session is back

    def _send_alarm(self, alarm: Alarm) -> None:
        mid = self._link.publish(alarm_topic(self.hub), encode(alarm))
        if mid is not None:
            self._in_flight[mid] = ("alarm", alarm.id)
            self._alarms.published(alarm.id, now_s=self._monotonic())

    def _send_batches(self) -> None:
        while self._batches_in_flight() < self._max_in_flight:
            waiting = self.outbox.unbatched()
            if not self._flush.due(
                waiting=waiting, waiting_since=self._waiting_since, now=self._monotonic()
            ):
                return
            batch = self.outbox.assign_batch(
                max_readings=self._flush.max_readings, sent_at=self._clock()
            )
            if self.outbox.unbatched() == 0:
                self._waiting_since = None
            if batch is None:
                return
            mid = self._link.publish(readings_topic(self.hub), encode(batch))
            if mid is None:
                return  # sent again after the reconnect
            self._in_flight[mid] = ("batch", batch.seq)

    def _batches_in_flight(self) -> int:
        return sum(1 for what, _ in self._in_flight.values() if what == "batch")

    def _send_heartbeat(self, now: datetime) -> None:
        oldest = self.outbox.oldest_reading()
        watermark = now if oldest is None else min(now, oldest - _BEFORE)
        status = HubStatus(
            hub=self.hub,
            state=HubState.ONLINE,
            ts=now,
            uptime_s=round(self._monotonic() - self._started, 1),
            outbox=self.outbox.depth(),
            firmware=FIRMWARE_VERSION,
            sensors=placed(self._driver.sensors(), self.config),
            watermark=watermark,
            shed=self.outbox.shed(),
        )
        if self._link.publish(status_topic(self.hub), encode(status), retain=True) is not None:
            self._heartbeat.sent(now)

    def _handle_link_events(self) -> None:
        while not self._link.events.empty():
            event = self._link.events.get_nowait()
            match event:
                case Connected():
                    self._session_up = True
                    self._resend_all()
                case Acknowledged(mid):
                    self._acknowledged(mid)
                case Disconnected():
                    self._session_up = False
                case ConfigReceived(payload):
                    if self._apply_config(payload):
                        self.outbox.save_config(payload)
                case AlarmAckReceived(payload):
                    self._confirmation_received(payload)

    def _confirmation_received(self, payload: bytes) -> None:
        """The server stored these alarms: they leave the outbox."""
        try:
            message = parse_message(alarm_ack_topic(self.hub), payload)
        except ProtocolError as exc:
            # Kept, and sent again: a confirmation we cannot read confirms nothing.
            log.warning("ignoring an alarm confirmation that is not valid: %s", exc.reason)
            return
        if not isinstance(message, AlarmAck):
            return
        for alarm_id in self._alarms.confirmed(message.ids):
            log.info("alarm %s confirmed by the server", alarm_id)
            self.alarms_confirmed += 1

    def _apply_config(self, payload: bytes) -> bool:
        """Take the server's settings for this hub; a config it cannot read is logged and kept out."""
        try:
            message = parse_message(config_topic(self.hub), payload)
        except ProtocolError as exc:
            log.warning("ignoring a config from the server that is not valid: %s", exc.reason)
            return False
        if not isinstance(message, HubConfig):
            return False
        self.config = message
        interval = timedelta(seconds=message.heartbeat_s)
        if interval != self._heartbeat.interval:
            log.info("heartbeat every %d s, as the server asks", message.heartbeat_s)
            self._heartbeat.interval = interval
        return True

    def _resend_all(self) -> None:
        # A new session: whatever was in flight may be lost, so send it all again
        # (alarms first); the server drops what it already has.
        self._in_flight.clear()
        self._heartbeat.reset()
        for alarm in self._alarms.reconnected():
            self._send_alarm(alarm)
        pending = self.outbox.pending_batches()
        if pending:
            log.info("hub %s resending %d unacknowledged batches", self.hub, len(pending))
        for batch in pending:
            mid = self._link.publish(readings_topic(self.hub), encode(batch))
            if mid is not None:
                self._in_flight[mid] = ("batch", batch.seq)

    def _acknowledged(self, mid: int) -> None:
        entry = self._in_flight.pop(mid, None)
        if entry is None:
            return  # a status, or a message from before the last reconnect
        what, key = entry
        if what == "batch":
            assert isinstance(key, int)
            self.outbox.batch_acknowledged(key)
            self.batches_acknowledged += 1
        else:
            # The broker has it, but may yet lose it: kept until the server confirms.
            assert isinstance(key, str)
            self._alarms.acknowledged(key, now=self._clock())
