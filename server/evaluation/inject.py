"""Injected incidents: labelled copies of an unlabelled (real) home's recording.

A real home's recording says nothing of falls, so the evaluation makes its own:
each :class:`Injection` is one copy of the home's stream with one incident in
it, at a moment drawn (seeded) where that incident could really happen, as the
recording itself shows the resident's days (:func:`routine_of`):

- ``fall``: the stream stops at a daytime moment (08:00-21:00) while the
  resident is home and up (after the day's first getting-up, before bed, not
  in a spell out of the home, something moved in the last 15 minutes); the
  hub stays online; 8 hours later (someone came) the stream goes on.
- ``not_up``: the stream stops in the night, 5 to 90 minutes before both that
  day's getting-up and their usual one (the median of the recording's own
  mornings), for 8 hours; the label starts at the earlier of those two, when
  they would have been up on an ordinary day.
- ``wander_out``: a front-door opening (and closing) between 02:00 and 04:00
  on a night they were in bed, then nothing for 1 to 3 hours (they are out).

Pure: readings and the sensor map in, injections out; ``seed`` decides them all.
"""

from __future__ import annotations

import bisect
import random
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from edge.protocol import Reading, ReadingKind
from firmware_sim.incidents import IncidentLabel

__all__ = ["INJECTABLE", "Day", "Injection", "Routine", "inject", "routine_of"]

INJECTABLE = ("fall", "not_up", "wander_out")

FRONT_DOOR = "front_door"
# Rooms a resident passes through at night (to the toilet and back): being there
# is not being up for the day.
_NIGHT_ROOMS = frozenset({"bedroom", "bathroom", "hall", FRONT_DOOR})
# Readings that show someone there (a temperature does not; a PIR clearing does not).
_PRESENCE = frozenset(
    {
        ReadingKind.MOTION,
        ReadingKind.CONTACT,
        ReadingKind.BED,
        ReadingKind.CHAIR,
        ReadingKind.BUTTON,
    }
)
# The day's getting-up is looked for from 04:00 to 14:00: the first movement in a day
# room with the bed quiet for the hour after (a bed pad pulses while someone lies on
# it) and the day rooms still in use half an hour to 90 minutes later, or the front door
# used by then (a drink of water at 04:40, or a night owl's last visit to the kitchen, is
# followed by nothing there).
_MORNING = (time(4, 0), time(14, 0))
_BED_QUIET = timedelta(hours=1)
_STILL_UP = (timedelta(minutes=30), timedelta(minutes=90))
# The front door and then nothing for this long: out of the home.
_OUT_QUIET = timedelta(minutes=30)
_FALL_HOURS = (time(8, 0), time(21, 0))
# A fall is drawn only where something moved this recently: home and up, not out unseen.
_LAST_MOVED = timedelta(minutes=15)
# Lying on the floor (or in bed) until someone comes, as the simulator's falls.
_LYING = timedelta(hours=8)
_NOT_UP_BEFORE = (timedelta(minutes=90), timedelta(minutes=5))
_WANDER_HOURS = (time(2, 0), time(4, 0))
_WANDER_OUT = (timedelta(hours=1), timedelta(hours=3))
_DOOR_OPEN = timedelta(seconds=30)
_STUCK = timedelta(hours=1)
# Draws tried per injection wanted before giving up (a home with few usable days).
_TRIES = 50


@dataclass(slots=True, frozen=True)
class Day:
    """One day of the resident's, as the recording shows it."""

    day: date
    up: datetime  # the day's first getting-up
    bed: datetime  # the last movement in a day room before the night


@dataclass(slots=True, frozen=True)
class Routine:
    """The resident's days, spells out of the home, and every moment something moved."""

    days: tuple[Day, ...]
    out: tuple[tuple[datetime, datetime], ...]
    moved: tuple[datetime, ...]
    # Motion sensors' "on" spells: (sensor, on, cleared or None), in time order.
    motion_on: tuple[tuple[str, datetime, datetime | None], ...] = ()

    def clears_at(self, at: datetime) -> tuple[Reading, ...]:
        """A clear at ``at`` from each motion sensor on then: once nobody moves, it clears.

        Without it a fall would leave a PIR "on" that never clears (its recorded
        clear is cut away). One on for longer than an hour is stuck: left alone.
        """
        return tuple(
            Reading(sensor, ReadingKind.MOTION, at, 0.0)
            for sensor, on, off in self.motion_on
            if on < at and (off is None or off >= at) and at - on <= _STUCK
        )

    def usual_up(self) -> time | None:
        """The median local time of getting up, or None without a morning."""
        if not self.days:
            return None
        hours = [d.up.hour + d.up.minute / 60 + d.up.second / 3600 for d in self.days]
        h = statistics.median(hours)
        return time(int(h), int(h * 60) % 60)

    def is_out(self, at: datetime) -> bool:
        """Whether ``at`` is in a spell out of the home (the front door, then nothing)."""
        return any(left <= at < back for left, back in self.out)

    def last_moved(self, at: datetime) -> datetime | None:
        """The last moment before ``at`` that something moved."""
        i = bisect.bisect_left(self.moved, at)
        return self.moved[i - 1] if i else None


@dataclass(slots=True, frozen=True)
class Injection:
    """One labelled copy: the recorded readings in ``[cut, resume)`` are replaced by ``inserted``."""

    label: IncidentLabel
    cut: datetime
    resume: datetime
    inserted: tuple[Reading, ...] = ()


def _local_at(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, zone)


def routine_of(readings: Sequence[Reading], rooms: Mapping[str, str], zone: ZoneInfo) -> Routine:
    """The resident's getting-up, bed times and spells out, from their readings and sensor map."""
    present = sorted(
        (
            r
            for r in readings
            if r.kind in _PRESENCE and (r.kind is not ReadingKind.MOTION or r.value >= 1)
        ),
        key=lambda r: r.ts,
    )
    placed = [(r, rooms.get(r.sensor)) for r in present]
    in_bed = [r.ts for r in present if r.kind is ReadingKind.BED]
    day_rooms = [r.ts for r, room in placed if room is not None and room not in _NIGHT_ROOMS]
    doors = [r.ts for r, room in placed if room == FRONT_DOOR]
    moved = [r.ts for r, room in placed if room is not None and room != FRONT_DOOR]

    ups: dict[date, datetime] = {}
    for ts in day_rooms:
        local = ts.astimezone(zone)
        if local.date() in ups or not (_MORNING[0] <= local.time() < _MORNING[1]):
            continue
        later = bisect.bisect_left(day_rooms, ts + _STILL_UP[0])
        k = bisect.bisect_right(doors, ts)
        went_out = k < len(doors) and doors[k] <= ts + _STILL_UP[1]
        if not went_out and (later == len(day_rooms) or day_rooms[later] > ts + _STILL_UP[1]):
            continue  # back to bed: not up for the day
        j = bisect.bisect_right(in_bed, ts)
        if j < len(in_bed) and in_bed[j] <= ts + _BED_QUIET:
            continue  # back to bed within the hour: a night snack, not the morning
        ups[local.date()] = ts
    days: list[Day] = []
    for day, up in sorted(ups.items()):
        night = _local_at(day + timedelta(days=1), _MORNING[0], zone)
        until = min(ups.get(day + timedelta(days=1), night), night)
        i = bisect.bisect_left(day_rooms, until)
        days.append(Day(day, up, max(up, day_rooms[i - 1])))
    out: list[tuple[datetime, datetime]] = []
    for door in doors:
        i = bisect.bisect_right(moved, door)
        back = moved[i] if i < len(moved) else None
        if back is None or back - door >= _OUT_QUIET:
            out.append((door, back or datetime.max.replace(tzinfo=door.tzinfo)))
    spells: list[tuple[str, datetime, datetime | None]] = []
    on: dict[str, datetime] = {}
    for r in sorted((r for r in readings if r.kind is ReadingKind.MOTION), key=lambda r: r.ts):
        if r.value >= 1:
            on.setdefault(r.sensor, r.ts)
        elif r.sensor in on:
            spells.append((r.sensor, on.pop(r.sensor), r.ts))
    spells += [(sensor, since, None) for sensor, since in on.items()]
    spells.sort(key=lambda spell: spell[1])
    return Routine(tuple(days), tuple(out), tuple(moved), tuple(spells))


def _draw(rng: random.Random, spans: Sequence[tuple[datetime, datetime]]) -> datetime | None:
    """A moment drawn uniformly over ``spans`` (start, end)."""
    lengths = [(b - a).total_seconds() for a, b in spans]
    total = sum(lengths)
    if total <= 0:
        return None
    x = rng.uniform(0, total)
    for (a, _), length in zip(spans, lengths, strict=True):
        if x <= length:
            return a + timedelta(seconds=round(x, 3))
        x -= length
    return spans[-1][1]


def _clip(
    spans: Sequence[tuple[datetime, datetime]], lo: datetime, hi: datetime
) -> list[tuple[datetime, datetime]]:
    return [(max(a, lo), min(b, hi)) for a, b in spans if min(b, hi) > max(a, lo)]


def inject(
    kind: str,
    *,
    home: str,
    readings: Sequence[Reading],
    rooms: Mapping[str, str],
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    count: int,
    seed: int,
    warmup: timedelta = timedelta(days=7),
    routine: Routine | None = None,
) -> list[Injection]:
    """Up to ``count`` injections of ``kind`` into ``home``, drawn from ``seed``, in time order.

    None before ``start + warmup``: the detector must have learned the resident's
    days first, as it would have live. Fewer than ``count`` when the home has too
    few usable days; none of ``wander_out`` in a home with no front-door sensor.
    """
    if kind not in INJECTABLE:
        raise ValueError(f"cannot inject {kind!r}; choose from {', '.join(INJECTABLE)}")
    routine = routine or routine_of(readings, rooms, zone)
    rng = random.Random(f"{seed}:{home}:{kind}")
    earliest = start + warmup
    by_day = {d.day: d for d in routine.days}
    usual = routine.usual_up()
    found: list[Injection] = []
    if kind == "fall":
        spans = _clip(
            [
                (
                    max(d.up, _local_at(d.day, _FALL_HOURS[0], zone)),
                    min(d.bed, _local_at(d.day, _FALL_HOURS[1], zone)),
                )
                for d in routine.days
            ],
            earliest,
            end - _LYING,
        )
        for _ in range(count * _TRIES):
            if len(found) == count:
                break
            at = _draw(rng, spans)
            if at is None:
                break
            last = routine.last_moved(at)
            if last is None or at - last > _LAST_MOVED or routine.is_out(at):
                continue
            label = IncidentLabel("fall", home, at, at + _LYING, "injected")
            found.append(Injection(label, at, at + _LYING, routine.clears_at(at)))
    elif kind == "not_up" and usual is not None:
        windows: list[tuple[datetime, datetime]] = []
        ups: list[datetime] = []
        for d in routine.days:
            before = by_day.get(d.day - timedelta(days=1))
            if before is None:
                continue  # no evening before: not known to have slept at home
            by = min(d.up, _local_at(d.day, usual, zone))
            a, b = by - _NOT_UP_BEFORE[0], by - _NOT_UP_BEFORE[1]
            clipped = _clip([(max(a, before.bed), b)], earliest, end - _LYING)
            windows += clipped
            ups += [by] * len(clipped)
        for _ in range(count * _TRIES):
            if len(found) == count:
                break
            at = _draw(rng, windows)
            if at is None:
                break
            if routine.is_out(at):
                continue
            up = next(u for (a, b), u in zip(windows, ups, strict=True) if a <= at <= b)
            label = IncidentLabel("not_up", home, up, at + _LYING, "injected")
            found.append(Injection(label, at, at + _LYING, routine.clears_at(at)))
    elif kind == "wander_out":
        doors = sorted(s for s, room in rooms.items() if room == FRONT_DOOR)
        if not doors:
            return []
        nights: list[tuple[datetime, datetime]] = []
        for d in routine.days:
            before = by_day.get(d.day - timedelta(days=1))
            if before is None:
                continue
            a = max(_local_at(d.day, _WANDER_HOURS[0], zone), before.bed)
            b = min(_local_at(d.day, _WANDER_HOURS[1], zone), d.up)
            nights += _clip([(a, b)], earliest, end - _WANDER_OUT[1])
        for _ in range(count * _TRIES):
            if len(found) == count:
                break
            at = _draw(rng, nights)
            if at is None:
                break
            if routine.is_out(at):
                continue
            away = timedelta(
                seconds=round(
                    rng.uniform(_WANDER_OUT[0].total_seconds(), _WANDER_OUT[1].total_seconds())
                )
            )
            door = doors[0]
            inserted = (
                *routine.clears_at(at),
                Reading(door, ReadingKind.CONTACT, at, 1.0),
                Reading(door, ReadingKind.CONTACT, at + _DOOR_OPEN, 0.0),
            )
            label = IncidentLabel("wander_out", home, at, at + away, "injected")
            found.append(Injection(label, at, at + away, inserted))
    return sorted(found, key=lambda i: i.cut)
