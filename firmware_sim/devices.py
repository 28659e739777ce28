"""The sensors of a simulated home and the firmware quirks of real ones.

What the resident does (:mod:`firmware_sim.routine`) becomes *physical
events*: a movement in a room, a door opened, someone sitting down. The
:class:`Firmware` turns them into what the devices report, the way real ones
do: a PIR is blind for a while after each trigger and sometimes misses a
movement, a reed contact sometimes bounces, an occupancy pad reports changes
only, a device whose battery is flat or whose radio link dropped reports
nothing.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from edge.agent.zigbee import DeviceSpec
from edge.protocol import AlarmKind

__all__ = [
    "ALARM_KINDS",
    "BATTERY_LOW",
    "FRONT_DOOR",
    "PENDANT",
    "PIR_BLIND_S",
    "SENSORS",
    "Battery",
    "Firmware",
    "Physical",
    "SensorEvent",
    "pir",
]

FRONT_DOOR = "front-door"
FRIDGE = "fridge-door"
PENDANT = "pendant"
OK_BUTTON = "ok-button"
# Battery PIRs ignore movement for a while after each report to save power.
PIR_BLIND_S = 30.0
PIR_MISS = 0.05
CONTACT_BOUNCE = 0.03
# Below this, zigbee2mqtt devices report battery_low.
BATTERY_LOW = 10.0
ALARM_KINDS = frozenset(k.value for k in AlarmKind)

_ROOMS = ("bedroom", "bathroom", "kitchen", "lounge", "hall")


def pir(room: str) -> str:
    """The sensor id of ``room``'s PIR."""
    return f"{room}-pir"


# The home's sensor map; zigbee2mqtt friendly names are the sensor ids.
SENSORS: tuple[DeviceSpec, ...] = (
    *(DeviceSpec(pir(room), pir(room), "motion", room) for room in _ROOMS),
    DeviceSpec(FRONT_DOOR, FRONT_DOOR, "contact", "front_door"),
    DeviceSpec(FRIDGE, FRIDGE, "contact", "kitchen"),
    DeviceSpec("bed", "bed", "bed", "bedroom"),
    DeviceSpec("chair", "chair", "chair", "lounge"),
    DeviceSpec("kettle", "kettle", "power", "kitchen"),
    DeviceSpec("lounge-temp", "lounge-temp", "temperature", "lounge"),
    DeviceSpec("bedroom-temp", "bedroom-temp", "temperature", "bedroom"),
    DeviceSpec(OK_BUTTON, OK_BUTTON, "button", "hall"),
    DeviceSpec(PENDANT, PENDANT, "pendant", None),
)
# Mains-powered: no battery to report or run flat.
_MAINS = frozenset({"kettle"})


class SensorEvent(NamedTuple):
    """What a device reported: a reading (``kind`` a reading kind) or an alarm (an alarm kind)."""

    ts: float
    sensor: str
    kind: str
    value: float


class Physical(NamedTuple):
    """Something that happened in the home, before any sensor saw it.

    ``what`` is ``move`` (target a room), ``contact`` (a door; value 1 open),
    ``occupancy`` (bed or chair), ``power`` (watts), ``button`` or ``alarm``.
    """

    ts: float
    what: str
    target: str
    value: float
    by_resident: bool = True


@dataclass(slots=True)
class Battery:
    """A device's battery: a slow drain from its level at the start, and any runs to flat."""

    level: float
    drain_per_day: float
    # (when flat, when replaced) for each time the battery runs out.
    flats: list[tuple[float, float]] = field(default_factory=list)

    def at(self, ts: float, start: float) -> float:
        """Percent left at ``ts``."""
        # The last fortnight before running out: from 15 % down to nothing.
        runway = 14 * 86400.0
        level, since = self.level, start
        for flat, replaced in sorted(self.flats):
            if flat - runway <= ts < flat:
                return max(0.0, 15.0 * (flat - ts) / runway)
            if flat <= ts < replaced:
                return 0.0
            if ts >= replaced:
                level, since = 100.0, replaced
        return max(1.0, level - self.drain_per_day * (ts - since) / 86400)

    def dead(self, ts: float) -> bool:
        """Flat and not yet replaced: the device says nothing."""
        return any(flat <= ts < replaced for flat, replaced in self.flats)


@dataclass(slots=True)
class Firmware:
    """Every device of one home, with the state that carries from day to day."""

    start: float
    batteries: dict[str, Battery]
    link_quality: dict[str, float]
    # Per sensor: intervals [start, end) when the device's radio link is lost.
    dropouts: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    # Sensors whose battery is set to run flat (the common case is none).
    flat_batteries: set[str] = field(default_factory=set)
    # Sensors the installer did not fit in this home: they never report.
    unfitted: frozenset[str] = frozenset()
    # Per sensor: spells [start, end) when the device sticks "on". It works until its
    # next "on" in the spell (a movement, a door opened, a press), reports that, then
    # nothing until the spell ends: a PIR latched, a door left ajar or a reed switch
    # out of line, a pad held down by a cushion. After it, the next real change shows.
    stuck: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    _latched: set[tuple[str, float]] = field(default_factory=set)
    _pir_last: dict[str, float] = field(default_factory=dict)
    _state: dict[str, float] = field(default_factory=dict)
    _settled: dict[str, float] = field(default_factory=dict)

    @classmethod
    def fitted(
        cls, start: float, rng: random.Random, *, unfitted: frozenset[str] = frozenset()
    ) -> Firmware:
        """A home's devices as an installer leaves them: batteries part used, links varied."""
        batteries = {
            d.sensor: Battery(level=rng.uniform(40, 100), drain_per_day=rng.uniform(0.02, 0.09))
            for d in SENSORS
            if d.sensor not in _MAINS
        }
        links = {d.sensor: rng.uniform(50, 210) for d in SENSORS}
        return cls(start=start, batteries=batteries, link_quality=links, unfitted=unfitted)

    def silent(self, sensor: str, ts: float) -> bool:
        """A flat battery, a lost link or no such device here: nothing from it now."""
        if sensor in self.unfitted:
            return True
        if not self.dropouts and not self.flat_batteries:
            return False
        battery = self.batteries.get(sensor)
        if battery is not None and battery.dead(ts):
            return True
        return any(a <= ts < b for a, b in self.dropouts.get(sensor, ()))

    def _stuck(self, sensor: str, ts: float, value: float) -> bool | None:
        """In a stuck spell: True if this report is swallowed, False if it is the one that
        latches the device; None outside any spell."""
        for a, b in self.stuck.get(sensor, ()):
            if a <= ts < b:
                if (sensor, a) in self._latched:
                    return True
                if value > 0:
                    self._latched.add((sensor, a))
                    return False
                return None  # not yet stuck: an "off" still reports
        return None

    def health(self, ts: float, rng: random.Random) -> list[tuple[str, float | None, float]]:
        """Each device's (sensor, battery %, link quality) as its next message would carry."""
        found: list[tuple[str, float | None, float]] = []
        for d in SENSORS:
            if d.sensor in self.unfitted:
                continue
            battery = self.batteries.get(d.sensor)
            link = min(255.0, max(0.0, rng.gauss(self.link_quality[d.sensor], 8)))
            found.append(
                (d.sensor, None if battery is None else round(battery.at(ts, self.start)), link)
            )
        return found

    def report(self, events: Iterable[Physical], rng: random.Random) -> Iterator[SensorEvent]:
        """What the devices report of ``events`` (in time order)."""
        for e in events:
            # Devices stamp to the millisecond, as the wire contract carries them.
            ts = round(e.ts, 3)
            match e.what:
                case "move":
                    sensor = pir(e.target)
                    if self.silent(sensor, ts):
                        continue
                    last = self._pir_last.get(sensor)
                    if last is not None and ts - last < PIR_BLIND_S:
                        continue
                    if rng.random() < PIR_MISS:
                        continue
                    if self.stuck and self._stuck(sensor, ts, 1.0):
                        continue
                    self._pir_last[sensor] = ts
                    yield SensorEvent(ts, sensor, "motion", 1.0)
                case "contact":
                    if self.silent(e.target, ts) or self._state.get(e.target) == e.value:
                        continue
                    if self.stuck and self._stuck(e.target, ts, e.value):
                        continue
                    # A change while the switch still chatters lands after it settles.
                    settled = self._settled.get(e.target)
                    if settled is not None and ts <= settled:
                        ts = round(settled + 0.05, 3)
                    self._state[e.target] = e.value
                    yield SensorEvent(ts, e.target, "contact", e.value)
                    if rng.random() < CONTACT_BOUNCE:
                        # The reed switch chatters: a quick false reversal.
                        bounce = round(ts + rng.uniform(0.2, 1.2), 3)
                        settled = round(bounce + rng.uniform(0.1, 0.6), 3)
                        self._settled[e.target] = settled
                        yield SensorEvent(bounce, e.target, "contact", 1.0 - e.value)
                        yield SensorEvent(settled, e.target, "contact", e.value)
                case "occupancy":
                    if self.silent(e.target, ts) or self._state.get(e.target, 0.0) == e.value:
                        continue
                    if self.stuck and self._stuck(e.target, ts, e.value):
                        continue
                    self._state[e.target] = e.value
                    yield SensorEvent(ts, e.target, e.target, e.value)
                case "power":
                    if e.target in self.unfitted:
                        continue
                    if self._state.get(e.target) != e.value:
                        self._state[e.target] = e.value
                        yield SensorEvent(ts, e.target, "power", e.value)
                case "button":
                    if not self.silent(e.target, ts):
                        yield SensorEvent(ts, e.target, "button", 1.0)
                case "alarm":
                    # A pendant's radio retries until the hub hears it.
                    yield SensorEvent(ts, e.target, AlarmKind.PENDANT.value, 1.0)
