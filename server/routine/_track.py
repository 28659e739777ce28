"""Where the resident is, from a home's readings: the engine under the timeline and the measures.

Readings become events (a movement in a room, a bed or chair pad, the front
door, the "I'm OK" button), and one pass over them gives the stays (room or
"out", with start and end) and the nights (a bedroom stay in which the
resident went to bed). Repeated reports of an unchanged contact, pad or kettle
are not movements: only changes are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum, auto
from typing import Final

from edge.protocol import ReadingKind
from server.detect.inactivity import FRONT_DOOR_SENSOR, PAD_ROOMS, room_for
from server.routine.activity import Activity

__all__ = [
    "BATHROOM",
    "BEDROOM",
    "KETTLE_ON_WATTS",
    "KITCHEN",
    "OUT",
    "OUT_AFTER",
    "PRESENCE",
    "SETTLED",
    "Event",
    "Night",
    "Stay",
    "Track",
    "What",
    "classify",
    "track",
]

BEDROOM: Final = "bedroom"
BATHROOM: Final = "bathroom"
KITCHEN: Final = "kitchen"
OUT: Final = "out"
# A movement says where the resident is for this long at most: a longer
# silence is a gap, not presence (sitting still in a chair without a pad, or
# a PIR that missed them leaving).
PRESENCE: Final = timedelta(minutes=30)
# The front door, then nothing moving inside for this long: the resident went out.
OUT_AFTER: Final = timedelta(minutes=10)
# Without a bed pad, a silence this long in the bedroom is taken as being in bed.
SETTLED: Final = timedelta(minutes=30)
# Kettles draw 1.5 to 3 kW; a smart plug's standby reading is a few watts.
KETTLE_ON_WATTS: Final = 500.0


class What(Enum):
    """What an event says about the resident."""

    MOVE = auto()  # movement in a room: motion, a door or cupboard, the kettle switched on
    KETTLE = auto()  # the kettle switched on (also a movement in the kitchen)
    PAD_ON = auto()  # bed or chair now occupied
    PAD_OFF = auto()  # bed or chair now empty
    DOOR = auto()  # the front door opened or closed
    CHECKIN = auto()  # the "I'm OK" button: at home, room unknown


@dataclass(frozen=True, slots=True)
class Event:
    """One thing the resident did; ``room`` is empty for the front door and the button."""

    ts: datetime
    what: What
    room: str


@dataclass(frozen=True, slots=True)
class Stay:
    """A stretch in one room (or out): ``last`` is the last activity seen in it."""

    room: str
    start: datetime
    end: datetime
    last: datetime


@dataclass(frozen=True, slots=True)
class Night:
    """A bedroom stay in which the resident went to bed; ``up`` is None while still there."""

    bed: datetime
    up: datetime | None


@dataclass(frozen=True, slots=True)
class Track:
    """Stays in time order, and nights in time order."""

    stays: list[Stay]
    nights: list[Night]


def classify(readings: Iterable[Activity]) -> list[Event]:
    """The events among ``readings``, which must be in time order."""
    events: list[Event] = []
    state: dict[str, bool] = {}  # the last on/open/occupied state of each contact, pad and plug
    for r in readings:
        kind = r.kind
        if kind == ReadingKind.MOTION:
            if r.value >= 0.5:
                events.append(Event(r.ts, What.MOVE, room_for(r.sensor, kind)))
            continue
        if kind == ReadingKind.BUTTON:
            events.append(Event(r.ts, What.CHECKIN, ""))
            continue
        if kind == ReadingKind.POWER:
            if r.sensor != "kettle":
                continue
            on = r.value >= KETTLE_ON_WATTS
            if on and not state.get(r.sensor, False):
                events.append(Event(r.ts, What.KETTLE, KITCHEN))
            state[r.sensor] = on
            continue
        if kind not in (ReadingKind.CONTACT, ReadingKind.BED, ReadingKind.CHAIR):
            continue  # temperature, humidity: nothing about where the resident is
        on = r.value >= 0.5
        if state.get(r.sensor) == on:
            continue
        state[r.sensor] = on
        if kind == ReadingKind.CONTACT:
            if r.sensor == FRONT_DOOR_SENSOR:
                events.append(Event(r.ts, What.DOOR, ""))
            else:
                events.append(Event(r.ts, What.MOVE, room_for(r.sensor, kind)))
        else:
            events.append(Event(r.ts, What.PAD_ON if on else What.PAD_OFF, PAD_ROOMS[kind]))
    return events


def track(events: Sequence[Event], horizon: datetime) -> Track:
    """Stays and nights from ``events`` (time order); what is still open ends at ``horizon``."""
    tracker = _Tracker()
    for event in events:
        tracker.feed(event)
    return tracker.finish(max(horizon, events[-1].ts) if events else horizon)


@dataclass(slots=True)
class _Tracker:
    stays: list[Stay] = field(default_factory=list)
    nights: list[Night] = field(default_factory=list)
    # The open stay: its room, since when, the last activity in it.
    room: str | None = None
    since: datetime | None = None
    last: datetime | None = None
    # Rooms whose pad reads occupied; the resident is "held" on the pad of the room they are in.
    pads: set[str] = field(default_factory=set)
    # Front-door events since the last movement inside.
    door_first: datetime | None = None
    door_last: datetime | None = None
    gone: bool = False  # a silence of OUT_AFTER followed one of them
    # The last place seen, ignoring the presence cut: where a bedroom stay begins and ends.
    where: str | None = None
    bed_at: datetime | None = None
    bedroom_last: datetime | None = None

    def held(self) -> bool:
        return self.room is not None and self.room in self.pads

    def feed(self, e: Event) -> None:
        if e.what is What.DOOR:
            if not self.held():  # in bed or in the chair, the door is someone else
                if self.door_last is not None and e.ts - self.door_last >= OUT_AFTER:
                    self.gone = True  # a silence, then the door again: coming back
                self.door_first = self.door_first or e.ts
                self.door_last = e.ts
            return
        if self.door_first is not None and self.door_last is not None:
            if self.gone or e.ts - self.door_last >= OUT_AFTER:
                self._out(self.door_first, e.ts)
            self.door_first = self.door_last = None
            self.gone = False
        if e.what is What.CHECKIN:
            if self.room is not None and self.last is not None and self._within(e.ts):
                self.last = e.ts
            return
        if e.what is What.PAD_OFF and self.room not in (None, e.room):
            self.pads.discard(e.room)  # a late report: the resident is already elsewhere
            return
        self._at(e.room, e.ts)
        if e.what is What.PAD_ON:
            self.pads.add(e.room)
            if e.room == BEDROOM and self.bed_at is None:
                self.bed_at = e.ts
        elif e.what is What.PAD_OFF:
            self.pads.discard(e.room)

    def finish(self, horizon: datetime) -> Track:
        if (
            self.door_first is not None
            and self.door_last is not None
            and (self.gone or horizon - self.door_last >= OUT_AFTER)
        ):
            self._out(self.door_first, horizon)
        else:
            self._close(horizon)
            self._leave(horizon, open_=True)
        return Track(self.stays, self.nights)

    def _within(self, ts: datetime) -> bool:
        assert self.last is not None
        return self.held() or ts - self.last <= PRESENCE

    def _at(self, room: str, ts: datetime) -> None:
        if not (self.room == room and self._within(ts)):
            self._close(ts)
            self.room, self.since = room, ts
        self.last = ts
        if room != self.where:
            self._leave(ts)
            self.where = room
            if room == BEDROOM:
                self.bed_at = ts if BEDROOM in self.pads else None
                self.bedroom_last = ts
        elif room == BEDROOM and self.bedroom_last is not None:
            if self.bed_at is None and ts - self.bedroom_last >= SETTLED:
                self.bed_at = self.bedroom_last
            self.bedroom_last = ts

    def _close(self, at: datetime) -> None:
        if self.room is None or self.since is None or self.last is None:
            return
        end = at if self.held() else min(at, self.last + PRESENCE)
        if end > self.since:
            self.stays.append(Stay(self.room, self.since, end, self.last))
        self.room = None

    def _leave(self, at: datetime, *, open_: bool = False) -> None:
        """The resident leaves the place they were; a bedroom stay may have been a night."""
        if self.where != BEDROOM or self.bedroom_last is None:
            return
        if self.bed_at is None and at - self.bedroom_last >= SETTLED:
            self.bed_at = self.bedroom_last
        if self.bed_at is not None:
            self.nights.append(Night(self.bed_at, None if open_ else at))
        self.bed_at = None

    def _out(self, door: datetime, back: datetime) -> None:
        self._close(door)
        self._leave(door)
        self.where = OUT
        self.stays.append(Stay(OUT, door, back, door))
