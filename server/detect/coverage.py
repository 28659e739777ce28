"""What a home's sensors cannot see: findings for the installer, from the hub's sensor map.

A silence is only worth judging where a sensor could have broken it. A home with
no front-door sensor cannot tell time out from stillness at home; a room with
only pads and contacts sees someone sitting still there only when they use
them. Saying so to the installer, once, is better than raising silences that no
sensor could have ended.

>>> from edge.protocol import SensorHealth
>>> coverage_gaps([SensorHealth("lounge-chair", "chair", "lounge"),
...                SensorHealth("hall-pir", "motion", "hall")])  # doctest: +NORMALIZE_WHITESPACE
['No front-door sensor: going out cannot be seen, so time out of the home is judged as
  stillness at home (long outings raise no-movement alerts). Fit a contact on the front door.',
 'The lounge has no motion sensor: someone there is seen only when they use its chair pad,
  so silences there are judged on that alone. Fit a motion sensor in the lounge.']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from edge.protocol import SensorHealth
from server.domain.alerts import AlertKind
from server.domain.findings import Cleared, Condition, Finding

__all__ = ["Coverage", "coverage_gaps", "judge_coverage"]

_FRONT_DOOR = "front_door"
# The kinds the detectors place the resident by. Thermometers say nothing about where
# someone is; a pendant, a fall detector or an "I'm OK" button goes where they go; alarms
# are raised whatever their room.
_PLACING = frozenset({"motion", "contact", "bed", "chair", "power"})
# How an installer would name what a room has instead of a motion sensor.
_WORDS = {
    "bed": "bed pad",
    "chair": "chair pad",
    "contact": "door and cupboard contacts",
    "power": "appliance plugs",
}


def coverage_gaps(sensors: Iterable[SensorHealth]) -> list[str]:
    """The installer's findings for a hub's sensor map, in a stable order; empty if it has none."""
    rooms: dict[str, set[str]] = {}
    unplaced: list[str] = []
    for sensor in sensors:
        if sensor.kind not in _PLACING:
            continue
        if not sensor.room:
            unplaced.append(sensor.sensor)
            continue
        rooms.setdefault(sensor.room, set()).add(sensor.kind)
    if not rooms:
        return []  # no map at all: nothing to judge the coverage by
    gaps: list[str] = []
    if _FRONT_DOOR not in rooms:
        gaps.append(
            "No front-door sensor: going out cannot be seen, so time out of the home is "
            "judged as stillness at home (long outings raise no-movement alerts). "
            "Fit a contact on the front door."
        )
    for room, kinds in sorted(rooms.items()):
        if room == _FRONT_DOOR or "motion" in kinds:
            continue
        seen_by = " and ".join(sorted(_WORDS.get(kind, kind) for kind in kinds))
        name = room.replace("_", " ")
        gaps.append(
            f"The {name} has no motion sensor: someone there is seen only when they use its "
            f"{seen_by}, so silences there are judged on that alone. "
            f"Fit a motion sensor in the {name}."
        )
    if unplaced:
        gaps.append(
            f"No room in the sensor map for {', '.join(sorted(unplaced))}: the detectors "
            "cannot place what it sees. Give each sensor its room."
        )
    return gaps


@dataclass(slots=True)
class Coverage:
    """What the installer was last told; its checkpoint section is ``coverage``."""

    told: list[str] = field(default_factory=list)
    # Not checkpointed: the sensor map last judged (a restart judges it again, and says
    # nothing new unless the findings changed).
    key: int | None = None

    def section(self) -> dict[str, Any]:
        """The checkpoint section (the name is that of the first checkpoints)."""
        return {"coverage_told": self.told}

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> Coverage:
        """A state from :meth:`section`; checkpoints from before coverage have none."""
        return cls(told=section.get("coverage_told", []))


def judge_coverage(
    hub: str,
    coverage: Coverage,
    sensors: Sequence[SensorHealth],
    ts: datetime,
    *,
    room: str,
    zone: ZoneInfo | None,
) -> list[Finding]:
    """Told once, and again when the map changes: what the sensors cannot see."""
    if not sensors:
        return []  # a heartbeat without its map says nothing about the map
    # Heartbeats come every minute and the map seldom changes: judged when it does.
    key = hash(tuple((s.sensor, s.kind, s.room) for s in sensors))
    if key == coverage.key:
        return []
    coverage.key = key
    gaps = coverage_gaps(sensors)
    if gaps == coverage.told:
        return []
    was, coverage.told = coverage.told, gaps
    if not gaps:
        local = ts.astimezone(zone) if zone else ts
        return [
            Cleared(
                hub=hub,
                kind=AlertKind.SENSOR_COVERAGE,
                event_at=ts,
                reason=f"Movement again in the {room} at {local:%H:%M}.",
            )
        ]
    return [
        Condition(
            hub=hub,
            kind=AlertKind.SENSOR_COVERAGE,
            event_at=ts,
            reason=" ".join(gaps),
            details={"gaps": gaps, "was": was},
        )
    ]
