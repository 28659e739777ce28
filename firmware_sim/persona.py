"""A resident's day: where they are, from midnight to midnight, drawn from their habits.

A persona holds habits as distributions (wake around 07:15 give or take
20 minutes), so no two days are the same. :func:`plan_day` turns one day into
a list of stays, each a room (or ``out``) with a start, an end and whether the
resident is asleep. The home turns stays into sensor events.

>>> from datetime import date
>>> from zoneinfo import ZoneInfo
>>> import random
>>> stays = plan_day(STEADY, date(2026, 11, 24), ZoneInfo("Europe/London"), random.Random(1))
>>> stays[0].room, stays[0].asleep, stays[-1].room, stays[-1].asleep
('bedroom', True, 'bedroom', True)
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["OUT", "ROOMS", "STEADY", "Persona", "Stay", "plan_day"]

ROOMS = ("bedroom", "bathroom", "kitchen", "lounge", "hall")
OUT = "out"


@dataclass(slots=True, frozen=True)
class Persona:
    """A resident's habits; hours are local clock hours, spreads are standard deviations."""

    name: str
    wake_hour: float = 7.25
    wake_spread_min: float = 20.0
    bed_hour: float = 22.5
    bed_spread_min: float = 20.0
    breakfast_min: float = 25.0
    lunch_hour: float = 12.5
    dinner_hour: float = 17.75
    meal_spread_min: float = 20.0
    # Mean counts per day, drawn from a Poisson distribution.
    day_toilet_visits: float = 3.0
    night_toilet_visits: float = 1.0
    kitchen_drinks: float = 3.0
    outing_chance: float = 0.5
    outing_hours: tuple[float, float] = (1.0, 3.0)


STEADY = Persona(name="steady")


@dataclass(slots=True, frozen=True)
class Stay:
    """The resident in one place from ``start`` to ``end`` (UTC)."""

    room: str
    start: datetime
    end: datetime
    asleep: bool = False


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: fine for the small means of daily habits.
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _insert_visit(
    stays: list[Stay], at: datetime, minutes: float, room: str, *, asleep_after: bool
) -> None:
    """Split the stay around ``at`` with a visit to ``room``, if it fits."""
    visit = timedelta(minutes=minutes)
    for i, stay in enumerate(stays):
        if stay.room not in ("lounge", "bedroom") or not (stay.start < at < stay.end):
            continue
        if at + visit + timedelta(minutes=5) >= stay.end or at - timedelta(minutes=5) <= stay.start:
            return
        stays[i : i + 1] = [
            Stay(stay.room, stay.start, at, stay.asleep),
            Stay(room, at, at + visit),
            Stay(stay.room, at + visit, stay.end, stay.asleep and asleep_after),
        ]
        return


def plan_day(persona: Persona, day: date, zone: ZoneInfo, rng: random.Random) -> list[Stay]:
    """Where the resident is on ``day``, midnight to midnight local time, in order."""
    midnight = datetime.combine(day, time(0), zone)

    def at(hour: float, spread_min: float = 0.0) -> datetime:
        minutes = hour * 60 + (rng.gauss(0, spread_min) if spread_min else 0.0)
        return (midnight + timedelta(minutes=minutes)).astimezone(UTC)

    def minutes(mean: float, spread: float) -> timedelta:
        return timedelta(minutes=max(mean / 3, rng.gauss(mean, spread)))

    day_end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    wake = at(persona.wake_hour, persona.wake_spread_min)
    bed = at(persona.bed_hour, persona.bed_spread_min)
    washed = wake + minutes(15, 4)
    breakfast_done = washed + minutes(persona.breakfast_min, 6)
    lunch = at(persona.lunch_hour, persona.meal_spread_min)
    lunch_done = lunch + minutes(30, 8)
    dinner = at(persona.dinner_hour, persona.meal_spread_min)
    dinner_done = dinner + minutes(40, 10)
    ready_for_bed = bed - minutes(15, 3)

    stays = [
        Stay("bedroom", midnight.astimezone(UTC), wake, asleep=True),
        Stay("bathroom", wake, washed),
        Stay("kitchen", washed, breakfast_done),
        Stay("lounge", breakfast_done, lunch),
        Stay("kitchen", lunch, lunch_done),
        Stay("lounge", lunch_done, dinner),
        Stay("kitchen", dinner, dinner_done),
        Stay("lounge", dinner_done, ready_for_bed),
        Stay("bathroom", ready_for_bed, bed),
        Stay("bedroom", bed, day_end, asleep=True),
    ]

    if rng.random() < persona.outing_chance:
        leave = at(rng.uniform(10.0, 14.0))
        _insert_visit(
            stays, leave, rng.uniform(*persona.outing_hours) * 60, OUT, asleep_after=False
        )
    for _ in range(_poisson(rng, persona.day_toilet_visits)):
        _insert_visit(
            stays, at(rng.uniform(9.0, 21.5)), rng.uniform(3, 8), "bathroom", asleep_after=False
        )
    for _ in range(_poisson(rng, persona.kitchen_drinks)):
        _insert_visit(
            stays, at(rng.uniform(9.5, 21.0)), rng.uniform(4, 10), "kitchen", asleep_after=False
        )
    night_end = (wake - midnight.astimezone(UTC)).total_seconds() / 3600 - 0.5
    for _ in range(_poisson(rng, persona.night_toilet_visits)):
        if night_end > 0.75:
            _insert_visit(
                stays,
                at(rng.uniform(0.5, night_end)),
                rng.uniform(3, 7),
                "bathroom",
                asleep_after=True,
            )
    return stays
