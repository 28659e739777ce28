"""Routine measures by day: meals in the kitchen and how much the resident moves about.

Each has its own state and checkpoint section (:class:`Meals`, ``meals``;
:class:`Decline`, ``decline``) and pure functions over it, called by
:class:`HomeWatch`:

- **meals**: when this resident usually first goes into the kitchen at lunch
  and at dinner (median and MAD of their own days). Past their latest usual
  time, at home and moving about but not in the kitchen: an advisory.
- **activity**: movements a day against their own usual (the median of past
  days, on a log scale with the spread from the MAD). A CUSUM adds up days
  below usual, so a slow decline is seen before any one day looks odd, while
  one quiet day (a cold, a long visit out) is forgotten. Days with almost
  nothing (away, in hospital) are not counted either way.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from server.detect.hours import clock, hour_of, latest_usual, time_of
from server.domain.alerts import AlertKind
from server.domain.findings import Condition

if TYPE_CHECKING:  # feedback reads the home's state, which holds these states
    from server.detect.feedback import Eagerness

__all__ = [
    "MEALS",
    "Decline",
    "Meals",
    "activity_day",
    "kitchen_visit",
    "meal_deadlines",
    "missed_meal",
    "mostly_away",
]

# The windows a meal is looked for in, local time; breakfast is what "not up" watches.
MEALS: dict[str, tuple[time, time]] = {
    "lunch": (time(11, 0), time(15, 0)),
    "dinner": (time(16, 0), time(20, 30)),
}
_LEARNED_MEALS = 7
_MEAL_STAY = timedelta(minutes=8)
_MEAL_MARGIN_H = 1.25
_LEARNED_DAYS = 14
# A day with fewer movements than this share of usual was spent away: not counted.
_ABSENT_SHARE = 0.25
_CUSUM_SLACK = 0.5
_CUSUM_LIMIT = 6.0
_Z_CLIP = 3.0


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@dataclass(slots=True)
class Meals:
    """The first kitchen visit in each meal window on their days, and the day each was seen."""

    lunch_times: deque[float] = field(default_factory=lambda: deque(maxlen=28))
    dinner_times: deque[float] = field(default_factory=lambda: deque(maxlen=28))
    seen_on: dict[str, str] = field(default_factory=dict)
    # Not checkpointed: in the kitchen since (local), and today's checks still to come (UTC).
    kitchen_since: datetime | None = None
    checks: list[tuple[datetime, str]] = field(default_factory=list)

    def section(self) -> dict[str, Any]:
        """The checkpoint section (the names are those of the first checkpoints)."""
        return {
            "lunch_times": list(self.lunch_times),
            "dinner_times": list(self.dinner_times),
            "meal_seen_on": self.seen_on,
        }

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> Meals:
        """A state from :meth:`section`."""
        state = cls(seen_on=section["meal_seen_on"])
        state.lunch_times.extend(section["lunch_times"])
        state.dinner_times.extend(section["dinner_times"])
        return state


@dataclass(slots=True)
class Decline:
    """Movements a day: the usual days, the CUSUM of days below usual, when it was raised."""

    day_counts: deque[int] = field(default_factory=lambda: deque(maxlen=42))
    cusum: float = 0.0
    low_days: int = 0
    raised_on: date | None = None

    def section(self) -> dict[str, Any]:
        """The checkpoint section (the names are those of the first checkpoints)."""
        return {
            "day_counts": list(self.day_counts),
            "decline_cusum": self.cusum,
            "low_days": self.low_days,
            "decline_raised_on": self.raised_on.isoformat() if self.raised_on else None,
        }

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> Decline:
        """A state from :meth:`section`."""
        state = cls(
            cusum=section["decline_cusum"],
            low_days=section["low_days"],
            raised_on=_day(section["decline_raised_on"]),
        )
        state.day_counts.extend(section["day_counts"])
        return state


def _meal_times(meals: Meals, meal: str) -> deque[float]:
    return meals.lunch_times if meal == "lunch" else meals.dinner_times


def kitchen_visit(meals: Meals, local: datetime) -> None:
    """The resident is in the kitchen: a stay long enough for a meal, in a meal window, is one.

    A drink (the kettle, a few minutes) is not a meal; the first meal-long stay
    in a window is, and when it began is learned.
    """
    since = meals.kitchen_since
    if since is None:
        meals.kitchen_since = since = local
    if local - since < _MEAL_STAY:
        return
    today, began = since.date(), since.time()
    for meal, (start, end) in MEALS.items():
        if start <= began < end:
            seen = meals.seen_on
            if seen.get(meal) != today.isoformat():
                seen[meal] = today.isoformat()
                _meal_times(meals, meal).append(hour_of(began))


def latest_meal(meals: Meals, meal: str, *, factor: float) -> float | None:
    """The latest hour this resident usually starts ``meal``, once there are enough days.

    ``factor``: how much less eagerly a missed meal is raised after false alarms.
    """
    times = _meal_times(meals, meal)
    if len(times) < _LEARNED_MEALS:
        return None
    latest = latest_usual(times, margin=_MEAL_MARGIN_H * factor, spreads=4 * factor)
    return min(latest, hour_of(MEALS[meal][1]))


def meal_deadlines(
    meals: Meals, day: date, zone: ZoneInfo | None, *, factor: float
) -> list[tuple[datetime, str]]:
    """Today's moments to look for each learned meal, earliest first."""
    deadlines = []
    for meal in MEALS:
        latest = latest_meal(meals, meal, factor=factor)
        if latest is None:
            continue
        deadlines.append((datetime.combine(day, time_of(latest), zone), meal))
    return sorted(deadlines)


@dataclass(slots=True, frozen=True)
class AtHome:
    """Where the resident is, as the home's watch knows it, when a meal is judged."""

    room: str | None
    last_activity: datetime | None
    last_door: datetime | None
    away: bool


def missed_meal(
    hub: str, meals: Meals, meal: str, local: datetime, *, home: AtHome, eagerness: Eagerness
) -> Condition | None:
    """At a meal's deadline: raise if they were at home and up, but not in the kitchen."""
    today = local.date()
    start = datetime.combine(today, MEALS[meal][0], local.tzinfo)
    if home.away or meals.seen_on.get(meal) == today.isoformat():
        return None
    if meals.kitchen_since is not None and home.room == "kitchen":
        return None  # in the kitchen now: the meal is starting
    if home.last_activity is None or home.last_activity < start:
        return None  # nothing since the window opened: out, or a silence the others judge
    if home.last_door is not None and home.last_door >= start - timedelta(hours=1):
        return None  # in and out of the front door: may have eaten out, or had a visitor
    latest = latest_meal(meals, meal, factor=eagerness.factor)
    assert latest is not None
    usual = statistics.median(_meal_times(meals, meal))
    return Condition(
        hub=hub,
        kind=AlertKind.MISSED_MEAL,
        event_at=local,
        reason=(
            f"No {meal} in the kitchen by {local:%H:%M}: they are at home and up, but "
            f"usually start {meal} around {clock(usual)} and by {clock(latest)} at the "
            "latest. Consider a call to check they are eating."
            f"{eagerness.note}"
        ),
        details={"meal": meal, "usual": clock(usual), "latest": clock(latest)},
    )


def mostly_away(decline: Decline, count: int) -> bool:
    """A day with so few movements against their usual (once known) that it was spent away."""
    counts = decline.day_counts
    return bool(counts) and count < _ABSENT_SHARE * statistics.median(counts)


def activity_day(
    hub: str,
    decline: Decline,
    day: date,
    count: int,
    *,
    closed_at: datetime,
    eagerness: Eagerness,
) -> Condition | None:
    """A finished day's movements: learned, and added to the decline CUSUM."""
    history = list(decline.day_counts)
    if len(history) < _LEARNED_DAYS:
        decline.day_counts.append(count)
        return None
    usual = statistics.median(history)
    if usual <= 0 or mostly_away(decline, count):
        return None  # away most of the day: says nothing about how they are
    logs = [math.log(max(c, 1)) for c in history]
    centre = statistics.median(logs)
    spread = max(0.15, 1.4826 * statistics.median(abs(v - centre) for v in logs))
    z = max(-_Z_CLIP, (math.log(count) - centre) / spread)
    decline.cusum = max(0.0, decline.cusum - z - _CUSUM_SLACK)
    # Days are learned as usual unless a decline is building up, so it is not learned away.
    if decline.cusum <= _CUSUM_LIMIT / 2:
        decline.day_counts.append(count)
    decline.low_days = decline.low_days + 1 if decline.cusum > 0 else 0
    if decline.cusum == 0.0:
        return None
    if decline.cusum < _CUSUM_LIMIT * eagerness.factor:
        return None
    decline.cusum = 0.0
    if decline.raised_on is not None and (day - decline.raised_on).days < 14:
        return None
    decline.raised_on = day
    share = count / usual
    return Condition(
        hub=hub,
        kind=AlertKind.ACTIVITY_DECLINE,
        event_at=closed_at,
        reason=(
            f"Moving about less: {count} movements at home on {day:%a %d %b} against a usual "
            f"{usual:.0f} ({share:.0%}), and lower than usual over the last {decline.low_days} days. "
            "A slow decline can mean illness, pain or low mood: consider a visit."
            f"{eagerness.note}"
        ),
        details={"count": count, "usual": usual, "low_days": decline.low_days},
    )
