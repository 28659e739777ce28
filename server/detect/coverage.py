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

from collections.abc import Iterable

from edge.protocol import SensorHealth

__all__ = ["coverage_gaps"]

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
