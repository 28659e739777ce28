"""zigbee2mqtt device messages → readings and alarms. Pure: payloads and ``now`` in, events out.

zigbee2mqtt publishes each device's whole state on ``zigbee2mqtt/<friendly name>``
whenever any attribute changes, so a battery report repeats the last
``contact`` or ``occupancy``. The mapper therefore turns *changes* into
readings (a door opening, a bed left), a PIR's ``occupancy: true`` into
movement at most once per blind time, and a pendant's ``action``, a leak or
smoke into alarms. Batteries and link quality feed the hub's heartbeat.

>>> from datetime import UTC, datetime
>>> mapper = Zigbee2Mqtt([DeviceSpec("0x01", "kitchen-pir", "motion", "kitchen")])
>>> now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
>>> [(e.sensor, e.value) for e in mapper.feed("zigbee2mqtt/0x01", b'{"occupancy": true, "battery": 91}', now)]
[('kitchen-pir', 1.0)]
>>> mapper.health()[0].battery
91.0
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from edge.agent.drivers import AlarmTrigger, DriverEvent
from edge.protocol import AlarmKind, Reading, ReadingKind, SensorHealth

__all__ = ["DEVICE_KINDS", "DeviceSpec", "Zigbee2Mqtt"]

log = logging.getLogger(__name__)

# What an installer may call a device in the hub's sensor map.
DEVICE_KINDS = frozenset(
    {
        "motion",
        "contact",
        "bed",
        "chair",
        "power",
        "temperature",
        "button",
        "pendant",
        "flood",
        "smoke",
    }
)
# A PIR reporting occupancy again within this is the same movement (or a battery report).
_MOTION_REPEAT = timedelta(seconds=30)


@dataclass(slots=True, frozen=True)
class DeviceSpec:
    """One entry of the hub's sensor map: zigbee2mqtt's friendly name → our sensor."""

    device: str
    sensor: str
    kind: str
    room: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in DEVICE_KINDS:
            raise ValueError(
                f"sensor {self.sensor!r}: kind {self.kind!r} is not one of {sorted(DEVICE_KINDS)}"
            )


@dataclass(slots=True)
class _Device:
    spec: DeviceSpec
    last: dict[str, Any] = field(default_factory=dict)
    last_motion: datetime | None = None
    battery: float | None = None
    link: float | None = None


class Zigbee2Mqtt:
    """Remembers each device's last state, so that only changes become readings."""

    def __init__(self, devices: Sequence[DeviceSpec], *, base_topic: str = "zigbee2mqtt") -> None:
        self._devices = {d.device: _Device(d) for d in devices}
        self._prefix = base_topic.rstrip("/") + "/"
        # Problems already logged, so a chatty broken device logs once.
        self._reported: set[str] = set()

    def health(self) -> list[SensorHealth]:
        """Each mapped sensor's room, battery and link quality as last reported."""
        return [
            SensorHealth(d.spec.sensor, d.spec.kind, d.spec.room, d.battery, d.link)
            for d in self._devices.values()
        ]

    def feed(self, topic: str, payload: bytes, now: datetime) -> list[DriverEvent]:
        """Events from one zigbee2mqtt message received at ``now``."""
        if not topic.startswith(self._prefix):
            return []
        name = topic.removeprefix(self._prefix)
        if name.startswith("bridge/") or name.endswith(("/availability", "/set", "/get")):
            return []
        device = self._devices.get(name)
        if device is None:
            self._once(
                f"unmapped:{name}", "device %r is not in this hub's sensor map; ignored", name
            )
            return []
        try:
            state = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            self._once(f"json:{name}", "device %r sent a message that is not JSON (%s)", name, exc)
            return []
        if not isinstance(state, dict):
            self._once(
                f"shape:{name}", "device %r sent %s, not an object", name, type(state).__name__
            )
            return []
        self._health(device, state)
        events = self._events(device, state, now)
        device.last.update(state)
        return events

    def _events(self, device: _Device, state: dict[str, Any], now: datetime) -> list[DriverEvent]:
        spec, last = device.spec, device.last
        sensor = spec.sensor

        def changed(key: str) -> bool:
            return key in state and state[key] != last.get(key)

        match spec.kind:
            case "motion" if state.get("occupancy") is True:
                if device.last_motion is None or now - device.last_motion >= _MOTION_REPEAT:
                    device.last_motion = now
                    return [Reading(sensor, ReadingKind.MOTION, now, 1.0)]
            case "contact" if changed("contact") and isinstance(state["contact"], bool):
                # zigbee2mqtt's contact=true means the magnet touches: closed.
                return [Reading(sensor, ReadingKind.CONTACT, now, 0.0 if state["contact"] else 1.0)]
            case "bed" | "chair" if changed("occupancy") and isinstance(state["occupancy"], bool):
                kind = ReadingKind(spec.kind)
                return [Reading(sensor, kind, now, 1.0 if state["occupancy"] else 0.0)]
            case "power" if changed("power") and _number(state["power"]) is not None:
                return [Reading(sensor, ReadingKind.POWER, now, _number(state["power"]) or 0.0)]
            case "temperature":
                found: list[DriverEvent] = []
                for key, kind in (
                    ("temperature", ReadingKind.TEMPERATURE),
                    ("humidity", ReadingKind.HUMIDITY),
                ):
                    value = _number(state.get(key))
                    if value is not None:
                        found.append(Reading(sensor, kind, now, value))
                return found
            case "pendant" if state.get("action"):
                return [AlarmTrigger(sensor, AlarmKind.PENDANT, now)]
            case "button" if state.get("action"):
                return [Reading(sensor, ReadingKind.BUTTON, now, 1.0)]
            case "flood" if state.get("water_leak") is True and last.get("water_leak") is not True:
                return [AlarmTrigger(sensor, AlarmKind.FLOOD, now)]
            case "smoke" if state.get("smoke") is True and last.get("smoke") is not True:
                return [AlarmTrigger(sensor, AlarmKind.SMOKE, now)]
        return []

    @staticmethod
    def _health(device: _Device, state: dict[str, Any]) -> None:
        battery, link = _number(state.get("battery")), _number(state.get("linkquality"))
        if battery is not None:
            device.battery = battery
        if link is not None:
            device.link = link

    def _once(self, key: str, message: str, *args: object) -> None:
        if key not in self._reported:
            self._reported.add(key)
            log.warning(message, *args)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
