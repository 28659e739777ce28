"""Daily routine measures, one row per local day, for a weekly trend chart.

All times are the home's local time. A day with no readings at all (of any
kind) has every measure ``None``, never zero, so a hub outage does not look
like a bad day; on a day with readings, a measure that could not be seen
(no wake-up found) is ``None`` too.

- **In bed**: a stay in the bedroom counts as being in bed from the moment the
  bed pad is occupied or, without a pad (or a pad that said nothing), from the
  last bedroom movement before a silence of 30 min; it lasts until the first
  movement outside the bedroom. Spells in bed less than an hour apart are one
  night: a toilet trip or a short wander does not end it.
- **wake_time**: the first movement outside the bedroom between 04:00 and
  13:00 that is not inside a night in bed: getting up for the day.
- **bed_time**: the start of the last night in bed that begins between 19:00
  and 03:00 the next morning (it belongs to the evening's day).
- **night_toilet_visits**: bathroom visits from last night's bed time (22:00
  if it was not seen) to this morning's wake time (13:00 if none), bathroom
  movements more than 10 min apart counting as separate visits; it belongs to
  the morning's day, and is ``None`` when nothing at all was heard in that time.
- **meals**: kitchen stays with 8 min or more between the first and the last
  movement, and kettle boils, grouped when 45 min or less apart, that start
  between 05:00 and 23:00 (a kettle at night is a sleepless night, not a
  meal). ``meal_times`` holds when each started.
- **time_out_min**: minutes "out" (the timeline's rule: the front door, then
  10 min without movement inside) within the day.
- **movements**: motion readings (movement seen), also by local clock hour in
  ``movements_by_hour`` (on the spring-forward day one hour is empty, on the
  fall-back day one hour holds two).
- **sleep_hours**: hours from last night's bed time to this morning's wake time
  (the morning's day; an absolute difference, so right across a clock change).

Pass readings from noon of the day before ``first_day``, so that the first
night is whole, and ``until`` (the time the readings are complete to, such as
now) for today's measures so far. Measuring today in the same call as the
history days (``*history, today = daily_measures(..., last_day=today,
until=now)``) also knows about a departure days ago: a resident away for a
week is "out", not silent.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from edge.protocol import ReadingKind
from server.routine._track import (
    BATHROOM,
    BEDROOM,
    KITCHEN,
    OUT,
    Event,
    Night,
    Stay,
    Track,
    What,
    classify,
    track,
)
from server.routine.activity import Activity

__all__ = ["DayMeasures", "daily_measures"]

WAKE_FROM: Final = time(4, 0)
WAKE_BY: Final = time(13, 0)
BED_FROM: Final = time(19, 0)
BED_BY: Final = time(3, 0)  # of the next day
# Spells in bed closer than this are one night.
NIGHT_GAP: Final = timedelta(hours=1)
# When last night's bed time was not seen, the night is counted from here.
NIGHT_FROM: Final = time(22, 0)
TOILET_APART: Final = timedelta(minutes=10)
MEAL_STAY: Final = timedelta(minutes=8)
MEAL_GROUP: Final = timedelta(minutes=45)
# A kettle at three in the morning is a sleepless night, not a meal.
MEALS_FROM: Final = time(5, 0)
MEALS_UNTIL: Final = time(23, 0)

_Block = tuple[datetime, datetime | None]


@dataclass(frozen=True, slots=True)
class DayMeasures:
    """One local day's routine; every measure is ``None`` on a day without readings."""

    day: date
    wake_time: time | None
    bed_time: time | None
    night_toilet_visits: int | None
    meals: int | None
    time_out_min: int | None
    movements: int | None
    sleep_hours: float | None
    meal_times: tuple[time, ...] = ()
    movements_by_hour: tuple[int, ...] = ()

    @property
    def has_readings(self) -> bool:
        """Whether the home sent anything that day."""
        return self.movements is not None

    @classmethod
    def without_readings(cls, day: date) -> DayMeasures:
        """A day the home sent nothing: nothing is known."""
        return cls(day, None, None, None, None, None, None, None)


def daily_measures(
    readings: Iterable[Activity],
    *,
    tz: ZoneInfo,
    first_day: date,
    last_day: date,
    until: datetime | None = None,
) -> list[DayMeasures]:
    """One :class:`DayMeasures` per local day from ``first_day`` to ``last_day``, inclusive."""
    days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    ordered = sorted(readings, key=lambda r: r.ts)
    if not ordered:
        return [DayMeasures.without_readings(d) for d in days]
    events = classify(ordered)
    horizon = max(until, ordered[-1].ts) if until is not None else ordered[-1].ts
    home = _Home(ordered, events, track(events, horizon), tz)
    return [home.measures(d) for d in days]


class _Home:
    """A home's readings, sorted and indexed once, measured day by day."""

    def __init__(
        self, ordered: Sequence[Activity], events: Sequence[Event], tracked: Track, tz: ZoneInfo
    ) -> None:
        self.tz = tz
        self.times = [r.ts for r in ordered]
        self.motions = [r.ts for r in ordered if r.kind == ReadingKind.MOTION and r.value >= 0.5]
        self.away = [e.ts for e in events if e.room and e.room != BEDROOM]
        self.bathroom = [e.ts for e in events if e.room == BATHROOM]
        self.blocks = _nights(tracked.nights)
        self.block_starts = [b[0] for b in self.blocks]
        self.meals = _meals(tracked.stays, [e.ts for e in events if e.what is What.KETTLE])
        self.outs = [(s.start, s.end) for s in tracked.stays if s.room == OUT]
        self._wakes: dict[date, datetime | None] = {}
        self._beds: dict[date, datetime | None] = {}

    def measures(self, day: date) -> DayMeasures:
        start, end = self.at(day, time(0)), self.at(day + timedelta(days=1), time(0))
        if bisect_left(self.times, end) == bisect_left(self.times, start):
            return DayMeasures.without_readings(day)
        wake, bed, last_bed = self.wake(day), self.bed(day), self.bed(day - timedelta(days=1))
        sleep = None
        if wake is not None and last_bed is not None:
            sleep = round((wake - last_bed).total_seconds() / 3600, 2)
        lo, hi = self.at(day, MEALS_FROM), self.at(day, MEALS_UNTIL)
        meals = self.meals[bisect_left(self.meals, lo) : bisect_left(self.meals, hi)]
        by_hour = self.by_hour(day, end)
        return DayMeasures(
            day=day,
            wake_time=self.clock(wake),
            bed_time=self.clock(bed),
            night_toilet_visits=self.toilet_visits(day, wake, last_bed),
            meals=len(meals),
            time_out_min=round(self.out_seconds(start, end) / 60),
            movements=sum(by_hour),
            sleep_hours=sleep,
            meal_times=tuple(t for t in map(self.clock, meals) if t is not None),
            movements_by_hour=by_hour,
        )

    def at(self, day: date, t: time) -> datetime:
        """A local clock time as UTC (a time the spring-forward gap skips falls in the gap's hour)."""
        return datetime.combine(day, t, self.tz).astimezone(UTC)

    def clock(self, ts: datetime | None) -> time | None:
        """The local clock time of ``ts``, to the minute."""
        if ts is None:
            return None
        return ts.astimezone(self.tz).time().replace(second=0, microsecond=0)

    def in_night(self, ts: datetime) -> bool:
        """Whether ``ts`` falls inside a night in bed (a trip from bed included)."""
        i = bisect_right(self.block_starts, ts) - 1
        if i < 0:
            return False
        up = self.blocks[i][1]
        return up is None or ts < up

    def wake(self, day: date) -> datetime | None:
        """The first movement outside the bedroom in the wake window, not within a night."""
        if day not in self._wakes:
            lo, hi = self.at(day, WAKE_FROM), self.at(day, WAKE_BY)
            found = None
            for i in range(bisect_left(self.away, lo), len(self.away)):
                ts = self.away[i]
                if ts >= hi:
                    break
                if not self.in_night(ts):
                    found = ts
                    break
            self._wakes[day] = found
        return self._wakes[day]

    def bed(self, day: date) -> datetime | None:
        """The start of the last night that begins in the evening's bed window."""
        if day not in self._beds:
            lo, hi = self.at(day, BED_FROM), self.at(day + timedelta(days=1), BED_BY)
            i = bisect_left(self.block_starts, hi) - 1
            self._beds[day] = (
                self.block_starts[i] if i >= 0 and self.block_starts[i] >= lo else None
            )
        return self._beds[day]

    def toilet_visits(
        self, day: date, wake: datetime | None, last_bed: datetime | None
    ) -> int | None:
        """Separate bathroom visits between last night's bed time and this morning's wake."""
        lo = last_bed or self.at(day - timedelta(days=1), NIGHT_FROM)
        hi = wake or self.at(day, WAKE_BY)
        if bisect_left(self.times, hi) == bisect_left(self.times, lo):
            return None  # nothing heard all night: not known, not zero
        visits, previous = 0, None
        for ts in self.bathroom[bisect_left(self.bathroom, lo) : bisect_left(self.bathroom, hi)]:
            if previous is None or ts - previous > TOILET_APART:
                visits += 1
            previous = ts
        return visits

    def out_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds out of the home between ``start`` and ``end``."""
        total = 0.0
        for a, b in self.outs:
            if b > start and a < end:
                total += (min(b, end) - max(a, start)).total_seconds()
        return total

    def by_hour(self, day: date, end: datetime) -> tuple[int, ...]:
        """Motion readings in each local clock hour of ``day``."""
        bounds = [self.at(day, time(h)) for h in range(24)] + [end]
        for i in range(1, len(bounds)):  # clock changes never make an hour run backwards
            bounds[i] = max(bounds[i], bounds[i - 1])
        index = [bisect_left(self.motions, b) for b in bounds]
        return tuple(index[h + 1] - index[h] for h in range(24))


def _nights(nights: Iterable[Night]) -> list[_Block]:
    """Spells in bed (bed, up) joined into nights when less than :data:`NIGHT_GAP` apart."""
    blocks: list[_Block] = []
    for n in nights:
        if blocks:
            start, up = blocks[-1]
            if up is None or n.bed - up < NIGHT_GAP:
                blocks[-1] = (start, n.up)
                continue
        blocks.append((n.bed, n.up))
    return blocks


def _meals(stays: Iterable[Stay], kettle: Iterable[datetime]) -> list[datetime]:
    """When each meal started: long kitchen stays and kettle boils, grouped."""
    pieces = sorted(
        [(s.start, s.last) for s in stays if s.room == KITCHEN and s.last - s.start >= MEAL_STAY]
        + [(ts, ts) for ts in kettle]
    )
    starts: list[datetime] = []
    until: datetime | None = None
    for a, b in pieces:
        if until is not None and a - until <= MEAL_GROUP:
            until = max(until, b)
            continue
        starts.append(a)
        until = b
    return starts
