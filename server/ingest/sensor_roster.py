"""How many sensors a hub may have: a bound on what one hub makes the server remember.

Every sensor a hub names gets state in the detectors (its last reading, its
battery, how long it has been silent). A real home has tens of sensors; a hub
that names a new one in every message (a bug, or an attacker with a hub's
password) would grow that state, and the alerts that list sensors, without
bound. So each hub is heard from at most ``limit`` distinct sensors while the
server runs; readings from further ones are refused with a reason.

>>> roster = SensorRoster(limit=2)
>>> sorted(roster.refused("hub-1", ["hall-pir", "bed-pad"]))
[]
>>> sorted(roster.refused("hub-1", ["hall-pir", "kitchen-pir"]))
['kitchen-pir']
>>> sorted(roster.refused("hub-2", ["kitchen-pir"]))
[]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

__all__ = ["MAX_SENSORS_PER_HUB", "SensorRoster"]

# Ten times a well-equipped home (door, window and cupboard contacts, a PIR per
# room, pads, plugs, climate): room for any real installation.
MAX_SENSORS_PER_HUB: Final = 256


class SensorRoster:
    """The sensors each hub has named, at most ``limit`` per hub."""

    def __init__(self, *, limit: int = MAX_SENSORS_PER_HUB) -> None:
        self._limit = limit
        self._sensors: dict[str, set[str]] = {}

    def refused(self, hub: str, sensors: Iterable[str]) -> set[str]:
        """Admit what fits; return the sensors refused because the hub has ``limit`` already."""
        known = self._sensors.setdefault(hub, set())
        refused: set[str] = set()
        for sensor in sensors:
            if sensor in known:
                continue
            if len(known) < self._limit:
                known.add(sensor)
            else:
                refused.add(sensor)
        return refused

    def forget(self, hub: str) -> None:
        """The hub was removed: its sensors are no longer counted."""
        self._sensors.pop(hub, None)
