"""The bed and chair pads: where they say the resident is, and since when.

A pressure pad pulses rather than holding "occupied": a press for each turn in bed or
shift in the chair, "empty" between them. So a pad is judged over minutes (pressed a
moment ago is still on it), a chair pad learns whether it pulses or holds, and at sleep
time a bed pad once lain on keeps them in bed until they are seen outside the bedroom.
:func:`read_bed_pad` and :func:`read_chair_pad` fold in a pad's reading,
:func:`place_of` says where a reading in a room puts the resident. ``HomeWatch`` calls
them for every reading and keeps the result in ``HomeState.place``; the mornings take
:attr:`Pads.bed_left` (when they got off the bed) and the front door at night
:attr:`Pads.in_bed_at`. Its own state and checkpoint section, ``pads``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from server.detect.gaps import BATHROOM, IN_BED, IN_CHAIR, UP
from server.detect.hours import is_sleep_time

__all__ = ["Pads", "place_of", "read_bed_pad", "read_chair_pad"]

# A pad pressed this recently still has someone on it: pads pulse while they turn.
_PAD_PULSE = timedelta(minutes=10)
# A press shorter than this is a pulse; how much each press moves the share of pulses.
_PAD_HELD = timedelta(minutes=1)
_PAD_LEARNING = 0.1
# Fields added after checkpoints were first written: a format 1-3 checkpoint (the pads
# flat in its header) may lack them and keeps the defaults.
_ADDED = frozenset({"bed_pressed", "bed_stay", "in_bed_at", "chair_pressed", "chair_pulsing"})


@dataclass(slots=True)
class Pads:
    """What the bed and chair pads have said."""

    # The bed pad's last reading, and whether the home has one at all.
    in_bed: bool = False
    has_bed_pad: bool = False
    # When they last got off the bed: the morning's getting up, if shortly before.
    bed_left: datetime | None = None
    # The bed pad's last press, and whether they have stayed in the bedroom since.
    bed_pressed: datetime | None = None
    bed_stay: bool = False
    # The last time they were in bed (pad or bedroom at sleep time): the door at night.
    in_bed_at: datetime | None = None
    # The chair pad's last reading, and its last press: pressed a moment ago is still in
    # the chair.
    in_chair: bool = False
    chair_pressed: datetime | None = None
    # The share of the chair pad's recent presses that were pulses (0: it holds "occupied").
    chair_pulsing: float = 0.0

    def section(self) -> dict[str, Any]:
        """The checkpoint section (the names are those of the first checkpoints)."""
        return {
            "in_bed": self.in_bed,
            "has_bed_pad": self.has_bed_pad,
            "bed_left": self.bed_left.isoformat() if self.bed_left else None,
            "bed_pressed": self.bed_pressed.isoformat() if self.bed_pressed else None,
            "bed_stay": self.bed_stay,
            "in_bed_at": self.in_bed_at.isoformat() if self.in_bed_at else None,
            "in_chair": self.in_chair,
            "chair_pressed": self.chair_pressed.isoformat() if self.chair_pressed else None,
            "chair_pulsing": self.chair_pulsing,
        }

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> Pads:
        """A state from :meth:`section`, or from an older header with the pads flat in it."""
        return cls(
            in_bed=section["in_bed"],
            has_bed_pad=section["has_bed_pad"],
            bed_left=_time(section, "bed_left"),
            bed_pressed=_time(section, "bed_pressed"),
            bed_stay=section.get("bed_stay", False),
            in_bed_at=_time(section, "in_bed_at"),
            in_chair=section["in_chair"],
            chair_pressed=_time(section, "chair_pressed"),
            chair_pulsing=section.get("chair_pulsing", 0.0),
        )


def _time(section: dict[str, Any], name: str) -> datetime | None:
    value = section.get(name) if name in _ADDED else section[name]
    return datetime.fromisoformat(value) if value else None


def read_bed_pad(pads: Pads, value: float, ts: datetime) -> None:
    """The bed pad read ``value`` (1: pressed, 0: released) at ``ts``."""
    pads.has_bed_pad = True
    pads.in_bed = value >= 0.5
    if pads.in_bed:
        pads.bed_pressed = ts
        pads.bed_stay = True
    else:
        pads.bed_left = ts


def read_chair_pad(pads: Pads, value: float, ts: datetime) -> None:
    """The chair pad read ``value`` (1: pressed, 0: released) at ``ts``."""
    pads.in_chair = value >= 0.5
    if pads.in_chair:
        pads.chair_pressed = ts
    elif pads.chair_pressed is not None:
        # Learn what kind of pad this is: one that pulses (a press for each shift,
        # seconds long) or one that holds "occupied" while they sit. A holding pad's
        # release is them getting up, and is believed at once.
        pulse = ts - pads.chair_pressed < _PAD_HELD
        pads.chair_pulsing += _PAD_LEARNING * (float(pulse) - pads.chair_pulsing)
        if pads.chair_pulsing < 0.5:
            pads.chair_pressed = None


def place_of(pads: Pads, room: str, hour: int, ts: datetime) -> int:
    """Where a reading at ``ts`` (local ``hour``) in ``room`` puts the resident: up and
    about, in the bathroom, in the chair or in bed (:mod:`server.detect.gaps`)."""
    if room == "bathroom":
        return BATHROOM
    if room == "lounge":
        # Chair pads pulse like bed pads (a press as they shift, "empty" between): pressed
        # a moment ago, they are still in the chair, and a still spell there is a chair's.
        pressed = pads.chair_pressed
        if pads.in_chair or (pressed is not None and ts - pressed <= _PAD_PULSE):
            return IN_CHAIR
    if room == "bedroom":
        if pads.in_bed:
            return IN_BED
        # Judged over minutes: pressed a moment ago is still in bed, and at sleep time,
        # once they have lain on it, they are in bed until they are seen outside the
        # bedroom.
        pressed = pads.bed_pressed
        if pressed is not None and ts - pressed <= _PAD_PULSE:
            return IN_BED
        if is_sleep_time(hour) and (not pads.has_bed_pad or pads.bed_stay):
            return IN_BED
    return UP
