"""Wired sensors on the hub's GPIO pins (gpiozero): PIRs and door contacts.

A wired PIR drives its pin high on movement; a door's reed switch closes
when the door is shut. gpiozero calls back on each edge, from its own thread;
the driver queues readings until the agent polls. Tested with gpiozero's
mock pin factory; on a Raspberry Pi the default factory drives real pins.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gpiozero import DigitalInputDevice

from edge.agent.drivers import Clock, DriverEvent, wall_clock
from edge.protocol import Reading, ReadingKind, SensorHealth

__all__ = ["GpioDriver", "GpioSensor"]


@dataclass(slots=True, frozen=True)
class GpioSensor:
    """A wired sensor: BCM pin number, our sensor id, ``motion`` or ``contact``, room."""

    pin: int
    sensor: str
    kind: str
    room: str | None = None
    # Reed switches usually pull the pin to ground when the door is shut.
    closed_when_low: bool = True

    def __post_init__(self) -> None:
        if self.kind not in ("motion", "contact"):
            raise ValueError(f"GPIO sensor {self.sensor!r}: kind must be motion or contact")


class GpioDriver:
    """Readings from wired sensors, as their pins change."""

    def __init__(
        self, sensors: Sequence[GpioSensor], *, clock: Clock = wall_clock, pin_factory: Any = None
    ) -> None:
        self._sensors = list(sensors)
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: list[DriverEvent] = []
        self._devices: list[DigitalInputDevice] = []
        for spec in self._sensors:
            device = DigitalInputDevice(
                spec.pin,
                pull_up=spec.kind == "contact" and spec.closed_when_low,
                pin_factory=pin_factory,
            )
            if spec.kind == "motion":
                device.when_activated = self._recorder(spec, ReadingKind.MOTION, 1.0)
            else:
                # Activated means the switch is closed: the door is shut (our 0).
                device.when_activated = self._recorder(spec, ReadingKind.CONTACT, 0.0)
                device.when_deactivated = self._recorder(spec, ReadingKind.CONTACT, 1.0)
            self._devices.append(device)

    def _recorder(self, spec: GpioSensor, kind: ReadingKind, value: float) -> Any:
        def record() -> None:
            reading = Reading(spec.sensor, kind, self._clock(), value)
            with self._lock:
                self._pending.append(reading)

        return record

    def poll(self, now: datetime) -> Sequence[DriverEvent]:
        """Readings since the last poll, oldest first."""
        with self._lock:
            events, self._pending = self._pending, []
        return events

    def sensors(self) -> Sequence[SensorHealth]:
        """Wired sensors have no battery or radio."""
        return [SensorHealth(s.sensor, s.kind, s.room) for s in self._sensors]

    def close(self) -> None:
        """Release the pins."""
        for device in self._devices:
            device.close()
