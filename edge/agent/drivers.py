"""What a sensor driver hands the agent, and the clock the agent reads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from edge.protocol import AlarmKind, Reading, SensorHealth

__all__ = ["AlarmTrigger", "Clock", "Combined", "Driver", "DriverEvent", "wall_clock"]

# The hub's notion of "now". A simulated home runs faster than real time, so
# the agent never reads the system clock directly.
Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    """The real time, timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass(slots=True, frozen=True)
class AlarmTrigger:
    """A life-safety sensor fired or a person pressed for help; the agent turns it into an Alarm."""

    sensor: str
    kind: AlarmKind
    ts: datetime


DriverEvent = Reading | AlarmTrigger


class Driver(Protocol):
    """A source of readings: the simulator, zigbee2mqtt, GPIO."""

    def poll(self, now: datetime) -> Sequence[DriverEvent]:
        """Events that happened up to ``now`` and were not returned before, oldest first."""
        ...

    def sensors(self) -> Sequence[SensorHealth]:
        """Each sensor's room, battery and link, for the heartbeat."""
        ...


class Combined:
    """Several drivers as one (zigbee2mqtt devices and wired sensors on one hub)."""

    def __init__(self, drivers: Sequence[Driver]) -> None:
        self._drivers = list(drivers)

    def poll(self, now: datetime) -> Sequence[DriverEvent]:
        """Every driver's events, oldest first."""
        events = [event for driver in self._drivers for event in driver.poll(now)]
        return sorted(events, key=lambda event: event.ts)

    def sensors(self) -> Sequence[SensorHealth]:
        """Every driver's sensors."""
        return [sensor for driver in self._drivers for sensor in driver.sensors()]
