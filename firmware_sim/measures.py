"""What a home's stream says about the resident's days, measured the same way for real and simulated homes.

Everything here reads only what a detector could read: readings with their
sensor's kind and room from the hub's sensor map. No sensor's name carries
meaning, and nothing uses the simulator's ground truth, so a real home's
recording and a simulated one are measured alike (``bench.sim_compare``
compares them).

Definitions (each a choice; docs/simulator.md gives the reasons):

- a *movement* is any reading the resident can cause: motion 1 (a PIR clearing,
  motion 0, is not a movement), any contact, bed or chair change, power change
  or button press;
- a *silence* is the time between two movements, counted when it is at least a
  minute (shorter gaps are the same movement seen twice);
- *out* is a silence that starts and ends at the front door (a door event,
  nothing else, then a door event again) and lasts over 10 minutes;
- the *night* of a day runs from 18:00 to 14:00 the next day; *in bed* is the
  longest stretch in it seen only in the bedroom, allowing trips out of it of
  under 30 minutes (the toilet), and at least 3 hours long; a trip in it that
  reaches the bathroom is a *night toilet visit*;
- a *nap* is a silence over an hour at home that starts between 10:00 and
  20:00; the *unseen share* of a day is the part of it spent in silences over
  an hour at home.

>>> from datetime import UTC, datetime
>>> t0 = datetime(2026, 1, 5, tzinfo=UTC).timestamp()
>>> sensors = {"pir": ("motion", "lounge"), "door": ("contact", "front_door")}
>>> moves = [(t0 + h * 3600, "pir", "motion", 1.0) for h in (10, 10.5, 13.5)]
>>> home = HomeStream(moves, sensors, "UTC", t0, t0 + 86400)
>>> m = measure(home)
>>> m.silences_min
[30.0, 180.0]
>>> m.naps_per_day, m.unseen_share
([1], [0.125])
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from firmware_sim.recording import HomeEntry, RecordedReading, read_recording, read_stream

__all__ = ["Event", "HomeMeasures", "HomeStream", "measure", "read_home", "recording_homes"]

# (epoch seconds, sensor, kind, value): the shape the simulator's devices emit.
Event = tuple[float, str, str, float]

_MIN, _HOUR, _DAY = 60.0, 3600.0, 86400.0
# Kinds a resident changes by being there (thermometers report regardless).
_ACTIVITY_KINDS = frozenset({"motion", "contact", "bed", "chair", "power", "button"})
_DOOR_ROOM = "front_door"
_SHORTEST_SILENCE_S = 1 * _MIN
_SHORTEST_OUTING_S = 10 * _MIN
_LONG_SILENCE_S = 1 * _HOUR
_NAP_HOURS = (10.0, 20.0)
_EVENING_HOURS = (18.0, 23.0)
_NIGHT_HOURS = (18.0, 24.0 + 14.0)
_LONGEST_TRIP_S = 30 * _MIN
_SHORTEST_NIGHT_S = 3 * _HOUR


@dataclass(slots=True, frozen=True)
class HomeStream:
    """One home's readings in time order, its sensor map (sensor → (kind, room)) and period."""

    events: Sequence[Event]
    sensors: dict[str, tuple[str, str]]
    timezone: str
    start: float
    end: float


@dataclass(slots=True)
class HomeMeasures:
    """One home's figures; each list has one value per silence, day or night as named."""

    silences_min: list[float] = field(default_factory=list)
    longest_silence_h: list[float] = field(default_factory=list)
    evening_still_min: list[float] = field(default_factory=list)
    naps_per_day: list[int] = field(default_factory=list)
    bed_hour: list[float] = field(default_factory=list)
    up_hour: list[float] = field(default_factory=list)
    night_toilet_visits: list[int] = field(default_factory=list)
    out_h_per_day: list[float] = field(default_factory=list)
    outings_per_day: list[int] = field(default_factory=list)
    unseen_share: list[float] = field(default_factory=list)
    readings_per_day: dict[str, list[int]] = field(default_factory=dict)
    # Share of this home's days with a movement in each local hour (0..23).
    active_by_hour: list[float] = field(default_factory=list)

    def spread_min(self, values: Sequence[float]) -> list[float]:
        """Each value's distance in minutes from this home's median: the day-to-day spread."""
        if not values:
            return []
        middle = sorted(values)[len(values) // 2]
        return [abs(v - middle) * 60 for v in values]


def read_home(entry: HomeEntry, start: float, end: float) -> HomeStream:
    """A recorded home (real or simulated) as a :class:`HomeStream`."""
    sensors = {s.sensor: (s.kind, s.room or "") for s in entry.sensors}
    events: list[Event] = []
    for record in read_stream(entry.stream):
        if isinstance(record, RecordedReading):
            r = record.reading
            events.append((r.ts.timestamp(), r.sensor, r.kind.value, r.value))
    events.sort(key=lambda e: e[0])
    return HomeStream(events, sensors, entry.timezone, start, end)


def _is_movement(kind: str, value: float) -> bool:
    return kind in _ACTIVITY_KINDS and not (kind == "motion" and value <= 0)


class _Day:
    """Local days and hours of one time zone, cached (the offset is found once a day)."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._midnights: dict[date, float] = {}

    def midnight(self, day: date) -> float:
        found = self._midnights.get(day)
        if found is None:
            found = datetime.combine(day, datetime.min.time(), self.zone).timestamp()
            self._midnights[day] = found
        return found

    def of(self, ts: float) -> tuple[date, float]:
        """The local day of ``ts`` and its hour in that day."""
        local = datetime.fromtimestamp(ts, self.zone)
        day = local.date()
        return day, (ts - self.midnight(day)) / _HOUR


def measure(home: HomeStream) -> HomeMeasures:
    """Every figure of one home over its whole days in ``[start, end)``."""
    clock = _Day(ZoneInfo(home.timezone))
    m = HomeMeasures()
    rooms = {s: room for s, (_, room) in home.sensors.items()}
    moves = [
        (ts, rooms.get(sensor, ""))
        for ts, sensor, kind, value in home.events
        if _is_movement(kind, value) and home.start <= ts < home.end
    ]
    days = _whole_days(clock, home.start, home.end)
    if not days:
        return m
    home_gaps, out_gaps = _gaps(moves)
    m.silences_min = [
        round((b - a) / _MIN, 3) for a, b in home_gaps if b - a >= _SHORTEST_SILENCE_S
    ]
    for day in days:
        day_start, day_end = clock.midnight(day), clock.midnight(day + timedelta(days=1))
        starting = [(a, b) for a, b in home_gaps if day_start <= a < day_end]
        m.longest_silence_h.append(max((b - a for a, b in starting), default=0.0) / _HOUR)
        m.evening_still_min.append(_longest_within(home_gaps, clock, day, _EVENING_HOURS) / _MIN)
        nap_from, nap_to = (day_start + h * _HOUR for h in _NAP_HOURS)
        m.naps_per_day.append(
            sum(1 for a, b in starting if b - a > _LONG_SILENCE_S and nap_from <= a < nap_to)
        )
        unseen = sum(
            _overlap(a, b, day_start, day_end) for a, b in home_gaps if b - a > _LONG_SILENCE_S
        )
        m.unseen_share.append(unseen / (day_end - day_start))
        outs = [(a, b) for a, b in out_gaps if day_start <= a < day_end]
        m.outings_per_day.append(len(outs))
        m.out_h_per_day.append(sum(_overlap(a, b, day_start, day_end) for a, b in out_gaps) / _HOUR)
    _nights(m, moves, clock, days, home.end)
    _readings(m, home, clock, set(days))
    _hours(m, moves, clock, days)
    return m


def _whole_days(clock: _Day, start: float, end: float) -> list[date]:
    """Local days wholly inside ``[start, end)``."""
    first, _ = clock.of(start)
    if clock.midnight(first) < start:
        first += timedelta(days=1)
    out: list[date] = []
    day = first
    while clock.midnight(day + timedelta(days=1)) <= end:
        out.append(day)
        day += timedelta(days=1)
    return out


def _gaps(
    moves: Sequence[tuple[float, str]],
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Silences between movements, split into those at home and those out of the door."""
    home: list[tuple[float, float]] = []
    out: list[tuple[float, float]] = []
    for (a, room_a), (b, room_b) in itertools.pairwise(moves):
        if b <= a:
            continue
        if room_a == room_b == _DOOR_ROOM and b - a > _SHORTEST_OUTING_S:
            out.append((a, b))
        else:
            home.append((a, b))
    return home, out


def _overlap(a: float, b: float, lo: float, hi: float) -> float:
    return max(0.0, min(b, hi) - max(a, lo))


def _longest_within(
    gaps: Iterable[tuple[float, float]], clock: _Day, day: date, hours: tuple[float, float]
) -> float:
    """The longest silence at home inside the day's window of local hours, clipped to it."""
    lo = clock.midnight(day) + hours[0] * _HOUR
    hi = clock.midnight(day) + hours[1] * _HOUR
    return max((_overlap(a, b, lo, hi) for a, b in gaps), default=0.0)


def _nights(
    m: HomeMeasures, moves: Sequence[tuple[float, str]], clock: _Day, days: list[date], end: float
) -> None:
    """Bed time, getting up and night toilet visits, night by night."""
    times = [t for t, _ in moves]
    for day in days:
        lo = clock.midnight(day) + _NIGHT_HOURS[0] * _HOUR
        hi = clock.midnight(day) + _NIGHT_HOURS[1] * _HOUR
        if hi > end:
            continue
        window = moves[bisect.bisect_left(times, lo) : bisect.bisect_left(times, hi)]
        night = _in_bed(window)
        if night is None:
            continue
        went, got_up, visits = night
        m.bed_hour.append((went - clock.midnight(day)) / _HOUR)
        m.up_hour.append((got_up - clock.midnight(day + timedelta(days=1))) / _HOUR)
        m.night_toilet_visits.append(visits)


def _in_bed(window: Sequence[tuple[float, str]]) -> tuple[float, float, int] | None:
    """(went to bed, got up, toilet trips) of the night's longest bedroom stretch, if any.

    >>> h = 3600.0
    >>> night = [(22 * h, "lounge"), (23 * h, "bedroom"), (26 * h, "bathroom"),
    ...          (26.1 * h, "bedroom"), (31 * h, "bathroom"), (31.2 * h, "kitchen")]
    >>> went, up, trips = _in_bed(night)
    >>> went / h, up / h, trips
    (23.0, 31.0, 1)
    """
    best: tuple[float, float, int] | None = None
    start: float | None = None
    left: float | None = None  # when the current trip out of the bedroom began
    trip_rooms: set[str] = set()
    visits = 0

    def close(until: float) -> None:
        nonlocal best
        if start is None or until - start < _SHORTEST_NIGHT_S:
            return
        if best is None or until - start > best[1] - best[0]:
            best = (start, until, visits)

    for ts, room in window:
        if room == "bedroom":
            if start is None:
                start, visits = ts, 0
            elif left is not None:
                if ts - left < _LONGEST_TRIP_S:
                    visits += "bathroom" in trip_rooms
                else:
                    close(left)
                    start, visits = ts, 0
            left, trip_rooms = None, set()
        elif start is not None:
            if left is None:
                left = ts
            elif ts - left >= _LONGEST_TRIP_S:
                close(left)
                start, left, trip_rooms = None, None, set()
                continue
            trip_rooms.add(room)
    if start is not None and left is not None:
        close(left)
    return best


def _readings(m: HomeMeasures, home: HomeStream, clock: _Day, days: set[date]) -> None:
    """Readings per whole day, per sensor kind (as the hub's sensor map names the kind)."""
    counts: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    last_day: date | None = None
    next_midnight = -math.inf
    for ts, _sensor, kind, _value in home.events:
        if ts >= next_midnight:
            last_day, _ = clock.of(ts)
            next_midnight = clock.midnight(last_day + timedelta(days=1))
        if last_day in days:
            counts[kind][last_day] += 1
    ordered = sorted(days)
    for kind in sorted(counts):
        m.readings_per_day[kind] = [counts[kind].get(d, 0) for d in ordered]


def _hours(
    m: HomeMeasures, moves: Sequence[tuple[float, str]], clock: _Day, days: list[date]
) -> None:
    """For each local hour, the share of days with at least one movement in it."""
    wanted = set(days)
    seen: set[tuple[date, int]] = set()
    for ts, _ in moves:
        day, hour = clock.of(ts)
        if day in wanted:
            seen.add((day, int(hour)))
    m.active_by_hour = [sum((d, h) in seen for d in days) / len(days) for h in range(24)]


def recording_homes(path: Path) -> list[HomeStream]:
    """Every home of a recording on disk."""
    recording = read_recording(path)
    start, end = recording.start.timestamp(), recording.end.timestamp()
    return [read_home(entry, start, end) for entry in recording.homes]
