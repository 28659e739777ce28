"""Routine measures by day: meals in the kitchen and how much the resident moves about.

Pure functions over a home's :class:`HomeState`, called by :class:`HomeWatch`:

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
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.detect.feedback import less_eager
from server.detect.home_state import HomeState
from server.detect.hours import clock, hour_of, latest_usual, time_of
from server.domain.alerts import AlertKind
from server.domain.findings import Condition

__all__ = ["MEALS", "activity_day", "kitchen_visit", "meal_deadlines", "missed_meal", "mostly_away"]

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


def _meal_times(home: HomeState, meal: str) -> deque[float]:
    return home.lunch_times if meal == "lunch" else home.dinner_times


def kitchen_visit(home: HomeState, local: datetime) -> None:
    """The resident is in the kitchen: a stay long enough for a meal, in a meal window, is one.

    A drink (the kettle, a few minutes) is not a meal; the first meal-long stay
    in a window is, and when it began is learned.
    """
    since = home.kitchen_since
    if since is None:
        home.kitchen_since = since = local
    if local - since < _MEAL_STAY:
        return
    today, began = since.date(), since.time()
    for meal, (start, end) in MEALS.items():
        if start <= began < end:
            seen = home.meal_seen_on
            if seen.get(meal) != today.isoformat():
                seen[meal] = today.isoformat()
                _meal_times(home, meal).append(hour_of(began))


def latest_meal(home: HomeState, meal: str) -> float | None:
    """The latest hour this resident usually starts ``meal``, once there are enough days."""
    times = _meal_times(home, meal)
    if len(times) < _LEARNED_MEALS:
        return None
    factor = less_eager(home, AlertKind.MISSED_MEAL).factor
    latest = latest_usual(times, margin=_MEAL_MARGIN_H * factor, spreads=4 * factor)
    return min(latest, hour_of(MEALS[meal][1]))


def meal_deadlines(home: HomeState, day: date, zone: ZoneInfo | None) -> list[tuple[datetime, str]]:
    """Today's moments to look for each learned meal, earliest first."""
    deadlines = []
    for meal in MEALS:
        latest = latest_meal(home, meal)
        if latest is None:
            continue
        deadlines.append((datetime.combine(day, time_of(latest), zone), meal))
    return sorted(deadlines)


def missed_meal(
    hub: str, home: HomeState, meal: str, local: datetime, *, away: bool
) -> Condition | None:
    """At a meal's deadline: raise if they were at home and up, but not in the kitchen."""
    today = local.date()
    start = datetime.combine(today, MEALS[meal][0], local.tzinfo)
    if away or home.meal_seen_on.get(meal) == today.isoformat():
        return None
    if home.kitchen_since is not None and home.room == "kitchen":
        return None  # in the kitchen now: the meal is starting
    if home.last_activity is None or home.last_activity < start:
        return None  # nothing since the window opened: out, or a silence the others judge
    if home.last_door is not None and home.last_door >= start - timedelta(hours=1):
        return None  # in and out of the front door: may have eaten out, or had a visitor
    latest = latest_meal(home, meal)
    assert latest is not None
    usual = statistics.median(_meal_times(home, meal))
    return Condition(
        hub=hub,
        kind=AlertKind.MISSED_MEAL,
        event_at=local,
        reason=(
            f"No {meal} in the kitchen by {local:%H:%M}: they are at home and up, but "
            f"usually start {meal} around {clock(usual)} and by {clock(latest)} at the "
            "latest. Consider a call to check they are eating."
            f"{less_eager(home, AlertKind.MISSED_MEAL).note}"
        ),
        details={"meal": meal, "usual": clock(usual), "latest": clock(latest)},
    )


def mostly_away(home: HomeState, count: int) -> bool:
    """A day with so few movements against their usual (once known) that it was spent away."""
    return bool(home.day_counts) and count < _ABSENT_SHARE * statistics.median(home.day_counts)


def activity_day(
    hub: str, home: HomeState, day: date, count: int, *, closed_at: datetime
) -> Condition | None:
    """A finished day's movements: learned, and added to the decline CUSUM."""
    history = list(home.day_counts)
    if len(history) < _LEARNED_DAYS:
        home.day_counts.append(count)
        return None
    usual = statistics.median(history)
    if usual <= 0 or mostly_away(home, count):
        return None  # away most of the day: says nothing about how they are
    logs = [math.log(max(c, 1)) for c in history]
    centre = statistics.median(logs)
    spread = max(0.15, 1.4826 * statistics.median(abs(v - centre) for v in logs))
    z = max(-_Z_CLIP, (math.log(count) - centre) / spread)
    home.decline_cusum = max(0.0, home.decline_cusum - z - _CUSUM_SLACK)
    # Days are learned as usual unless a decline is building up, so it is not learned away.
    if home.decline_cusum <= _CUSUM_LIMIT / 2:
        home.day_counts.append(count)
    home.low_days = home.low_days + 1 if home.decline_cusum > 0 else 0
    if home.decline_cusum == 0.0:
        return None
    eagerness = less_eager(home, AlertKind.ACTIVITY_DECLINE)
    if home.decline_cusum < _CUSUM_LIMIT * eagerness.factor:
        return None
    home.decline_cusum = 0.0
    if home.decline_raised_on is not None and (day - home.decline_raised_on).days < 14:
        return None
    home.decline_raised_on = day
    share = count / usual
    return Condition(
        hub=hub,
        kind=AlertKind.ACTIVITY_DECLINE,
        event_at=closed_at,
        reason=(
            f"Moving about less: {count} movements at home on {day:%a %d %b} against a usual "
            f"{usual:.0f} ({share:.0%}), and lower than usual over the last {home.low_days} days. "
            "A slow decline can mean illness, pain or low mood: consider a visit."
            f"{eagerness.note}"
        ),
        details={"count": count, "usual": usual, "low_days": home.low_days},
    )
