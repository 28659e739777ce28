"""Today against the resident's own usual: "all as usual today", or what is different.

Each measure's usual is the median of the history days that have it, and a
day is different when outside the median ± the larger of a floor and three
median absolute deviations (:data:`FLOORS`; movements use 40 % of the median),
and also outside the range of most days (10th to 90th percentile), so that
a habit of some days only (out on market day) is not different. A measure
needs :data:`MIN_DAYS` history days; with fewer days of readings altogether
the verdict is ``learning`` and says nothing.

Only what the time of day allows is judged:

- wake: a wake-up already seen; no wake-up only once past the latest usual one;
- night toilet visits: more than usual at any time, fewer only once up;
- sleep: once up (it is last night's);
- meals and movements: against what the history days had by this time
  (movements over whole hours, from noon, and only when usually 50 or more);
- time out: more than usual at any time, less only from 21:00;
- bed time: once seen, this evening.

Out for all of the day so far (but an hour), the resident is away: only the
time out is judged.

>>> from datetime import date, time
>>> day = DayMeasures(date(2026, 11, 23), time(7, 30), None, 1, 1, 0, 300, 8.0)
>>> compare(day, [], now_local=time(9, 0))
Verdict(as_usual=True, differences=[], learning=True)
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Final

from server.detect.inactivity import format_duration
from server.routine.measures import DayMeasures

__all__ = ["FLOORS", "MIN_DAYS", "Usual", "Verdict", "compare", "usual_ranges"]

MIN_DAYS: Final = 5
# The least a measure must differ from usual to count, in its own units.
FLOORS: Final[Mapping[str, float]] = {
    "wake_time": 45.0,  # minutes
    "bed_time": 45.0,  # minutes
    "night_toilet_visits": 2.0,
    "meals": 1.0,
    "time_out_min": 60.0,  # minutes
    "movements": 0.4,  # a share of the usual
    "sleep_hours": 1.5,  # hours
}
_SPREADS: Final = 3.0
_MIN_MOVEMENTS: Final = 50
_MOVEMENTS_FROM: Final = 12
_EVENING: Final = time(21, 0)
# Out for all but this many minutes of the day so far: away, not at home.
_AWAY_SLACK_MIN: Final = 60
_DAY_MIN: Final = 24 * 60
_NOON: Final = 12 * 60


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether today is as usual, and if not, what is different, one sentence each."""

    as_usual: bool
    differences: list[str]
    learning: bool


@dataclass(frozen=True, slots=True)
class Usual:
    """A measure's usual: its median, and the band outside which a day is different."""

    median: float
    low: float  # below this, or above high: different
    high: float
    least: float  # the 10th and 90th percentiles: "on most days"
    most: float


def compare(
    today: DayMeasures,
    history: Sequence[DayMeasures],
    *,
    now_local: time,
    hub_heard_today: bool = False,
) -> Verdict:
    """Judge ``today`` (so far, at ``now_local``) against the ``history`` days.

    ``hub_heard_today``: the hub's heartbeats came today, so no readings means
    a quiet home (asleep on the bed pad), not a hub that is offline.
    """
    past = [d for d in history if d.day != today.day and d.has_readings]
    learning = len(past) < MIN_DAYS
    if not today.has_readings and not hub_heard_today:
        return Verdict(
            False, ["No readings from the home yet today; the hub may be offline."], learning
        )
    if learning:
        return Verdict(True, [], True)
    now = _minutes(now_local)
    if not today.has_readings:
        # Nothing has moved since midnight: only a getting-up time long past says anything.
        late = _wake(today, past, now)
        return Verdict(late is None, [late] if late else [], False)
    out = today.time_out_min
    if out is not None and out >= now - _AWAY_SLACK_MIN:
        # Out (away) all day so far: not up, no meals and no movement say nothing.
        found = [_time_out(today, past, now_local)]
    else:
        found = [
            _wake(today, past, now),
            _toilet(today, past),
            _sleep(today, past),
            _meals(today, past, now),
            _movements(today, past, now_local.hour),
            _time_out(today, past, now_local),
            _bed(today, past),
        ]
    differences = [f for f in found if f is not None]
    return Verdict(not differences, differences, False)


# The measures a chart shows with their usual band; wake times in minutes after midnight.
_CHARTED: Final[Mapping[str, Callable[[DayMeasures], float | None]]] = {
    "wake_time": lambda d: None if d.wake_time is None else _minutes(d.wake_time),
    "night_toilet_visits": lambda d: d.night_toilet_visits,
    "meals": lambda d: d.meals,
    "time_out_min": lambda d: d.time_out_min,
    "sleep_hours": lambda d: d.sleep_hours,
}


def usual_ranges(today: DayMeasures, history: Sequence[DayMeasures]) -> dict[str, Usual]:
    """Each charted measure's usual, judged as :func:`compare` judges it (none while learning).

    >>> from datetime import date, time
    >>> days = [DayMeasures(date(2026, 11, d), time(7, 30), None, 1, 3, 0, 300, 8.0) for d in range(1, 8)]
    >>> usual = usual_ranges(days[-1], days[:-1])
    >>> usual["wake_time"].median, usual["wake_time"].low, usual["wake_time"].high
    (450.0, 405.0, 495.0)
    """
    past = [d for d in history if d.day != today.day and d.has_readings]
    found: dict[str, Usual] = {}
    for name, get in _CHARTED.items():
        usual = _usual(_values(past, get), FLOORS[name])
        if usual is not None:
            found[name] = usual
    return found


def _usual(values: Sequence[float], floor: float, *, relative: bool = False) -> Usual | None:
    """The usual of ``values``, or None with fewer than :data:`MIN_DAYS`."""
    if len(values) < MIN_DAYS:
        return None
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    band = max(floor * median if relative else floor, _SPREADS * mad)
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    least, most = deciles[0], deciles[-1]
    # A habit of some days only (out on Tuesdays) has a median and MAD of
    # nothing: what one day in ten does is not different either.
    return Usual(median, min(median - band, least), max(median + band, most), least, most)


def _values(past: Sequence[DayMeasures], get: Callable[[DayMeasures], float | None]) -> list[float]:
    return [v for v in map(get, past) if v is not None]


def _wake(today: DayMeasures, past: Sequence[DayMeasures], now: float) -> str | None:
    u = _usual(
        _values(past, lambda d: None if d.wake_time is None else _minutes(d.wake_time)),
        FLOORS["wake_time"],
    )
    if u is None:
        return None
    most_days = f"({_clock(u.least)} to {_clock(u.most)} on most days)"
    if today.wake_time is None:
        if now > u.high:
            return f"Not seen up yet at {_clock(now)}; usually up by {_clock(u.most)} {most_days}."
        return None
    x = _minutes(today.wake_time)
    if x > u.high:
        return f"Up at {_clock(x)}; usually by {_clock(u.most)} {most_days}."
    if x < u.low:
        return f"Up early at {_clock(x)}; usually from {_clock(u.least)} {most_days}."
    return None


def _bed(today: DayMeasures, past: Sequence[DayMeasures]) -> str | None:
    if today.bed_time is None:
        return None
    u = _usual(
        _values(past, lambda d: None if d.bed_time is None else _after_noon(d.bed_time)),
        FLOORS["bed_time"],
    )
    if u is None:
        return None
    x = _after_noon(today.bed_time)
    most_days = f"({_clock(u.least + _NOON)} to {_clock(u.most + _NOON)} on most days)"
    if x > u.high:
        return f"To bed at {_clock(x + _NOON)}; usually by {_clock(u.most + _NOON)} {most_days}."
    if x < u.low:
        return (
            f"To bed early at {_clock(x + _NOON)}; usually from {_clock(u.least + _NOON)} "
            f"{most_days}."
        )
    return None


def _toilet(today: DayMeasures, past: Sequence[DayMeasures]) -> str | None:
    x = today.night_toilet_visits
    u = _usual(_values(past, lambda d: d.night_toilet_visits), FLOORS["night_toilet_visits"])
    if x is None or u is None:
        return None
    night_over = today.wake_time is not None
    if x > u.high or (night_over and x < u.low):
        when = "last night" if night_over else "since going to bed"
        visits = "No visits" if x == 0 else f"{x} visit" if x == 1 else f"{x} visits"
        return (
            f"{visits} to the bathroom {when}; usually {round(u.median)} "
            f"({round(u.least)} to {round(u.most)})."
        )
    return None


def _sleep(today: DayMeasures, past: Sequence[DayMeasures]) -> str | None:
    x = today.sleep_hours
    u = _usual(_values(past, lambda d: d.sleep_hours), FLOORS["sleep_hours"])
    if x is None or u is None or u.low <= x <= u.high:
        return None
    return (
        f"In bed about {_hours(x)} h last night; usually {_hours(u.median)} h "
        f"({_hours(u.least)} to {_hours(u.most)} h)."
    )


def _meals(today: DayMeasures, past: Sequence[DayMeasures], now: float) -> str | None:
    if today.meals is None:
        return None
    x = _meals_by(today, now)
    u = _usual([_meals_by(d, now) for d in past if d.meals is not None], FLOORS["meals"])
    if u is None:
        return None
    usually = f"usually {round(u.median)} by this time."
    if x < u.low:
        if x == 0:
            return f"No meal seen yet today; {usually}"
        return f"Only {x} meal{'s' if x > 1 else ''} seen so far today; {usually}"
    if x > u.high:
        return f"{x} meals seen today; {usually}"
    return None


def _meals_by(day: DayMeasures, now: float) -> int:
    """Meals that ``day`` had by ``now`` (minutes since midnight)."""
    if day.meals is not None and len(day.meal_times) != day.meals:
        return day.meals  # no times given: the day's count
    return sum(_minutes(t) <= now for t in day.meal_times)


def _movements(today: DayMeasures, past: Sequence[DayMeasures], hour: int) -> str | None:
    if hour < _MOVEMENTS_FROM or len(today.movements_by_hour) != 24:
        return None  # the morning's count says more about the wake time than the day
    x = sum(today.movements_by_hour[:hour])
    u = _usual(
        [sum(d.movements_by_hour[:hour]) for d in past if len(d.movements_by_hour) == 24],
        FLOORS["movements"],
        relative=True,
    )
    if u is None or u.median < _MIN_MOVEMENTS or u.low <= x <= u.high:
        return None
    how = "less" if x < u.low else "more"
    return (
        f"Moving about {how} than usual: {x} movements by {hour:02d}:00; "
        f"usually about {round(u.median)} ({round(u.least)} to {round(u.most)})."
    )


def _time_out(today: DayMeasures, past: Sequence[DayMeasures], now_local: time) -> str | None:
    x = today.time_out_min
    u = _usual(_values(past, lambda d: d.time_out_min), FLOORS["time_out_min"])
    if x is None or u is None:
        return None
    usually = f"usually {_duration(u.median)} ({_duration(u.least)} to {_duration(u.most)})."
    if x > u.high:
        return f"Out for {_duration(x)} today; {usually}"
    if x < u.low and now_local >= _EVENING:
        if x == 0:
            return f"Not out today; {usually}"
        return f"Out for only {_duration(x)} today; {usually}"
    return None


def _minutes(t: time) -> float:
    """Minutes since midnight."""
    return t.hour * 60 + t.minute + t.second / 60


def _after_noon(t: time) -> float:
    """Minutes since noon, so that bed times either side of midnight sort as they happen."""
    return (_minutes(t) - _NOON) % _DAY_MIN


def _clock(minutes: float) -> str:
    m = round(minutes) % _DAY_MIN
    return f"{m // 60:02d}:{m % 60:02d}"


def _hours(h: float) -> str:
    return f"{h:.1f}".removesuffix(".0")


def _duration(minutes: float) -> str:
    return format_duration(timedelta(minutes=round(minutes)))
