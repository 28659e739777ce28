"""Clock times as hours of the day (07:30 is 7.5), and the latest usual one of a habit.

>>> hour_of(time(7, 30)), clock(7.5)
(7.5, '07:30')
>>> round(latest_usual([7.0, 7.25, 7.5, 8.0], margin=1.0, spreads=4), 2)
8.38
"""

from __future__ import annotations

import statistics
from collections.abc import Collection
from datetime import datetime, time

__all__ = [
    "AFTERNOON",
    "BED_TIME_FROM",
    "LATEST_WAKE_CAP",
    "MORNING_RECKONING",
    "NIGHT_COUNT_UNTIL",
    "NOON",
    "SLEEP_FROM",
    "SLEEP_UNTIL",
    "WAKE_FROM",
    "WAKE_UNTIL",
    "clock",
    "hour_of",
    "is_sleep_time",
    "latest_usual",
    "time_of",
]

# The hours that divide a resident's day for the detectors (local hours, 0-23). They are
# the resident's day as the sensors see it, not an operator's choice: the night the
# front door is judged by is WatchSettings.night_starts / night_ends.

# Each morning at 07:00 the night is over for nearly everyone: last night's toilet visits
# are judged and the day's meal checks are set.
MORNING_RECKONING = 7
# Night toilet visits and movements about the house at night are those before 06:00;
# a bathroom visit from then on is the morning's.
NIGHT_COUNT_UNTIL = 6
# Getting up is the first time in the kitchen or lounge from 04:00 until 13:00: earlier is
# a night-time wander, later the day is well under way.
WAKE_FROM, WAKE_UNTIL = 4, 13
# However late their mornings, nobody is expected to be still in bed later than 13:00:
# the latest usual getting-up time is capped there.
LATEST_WAKE_CAP = 13.0
# From 14:00 a resident in bed is lying down in the afternoon, not "not up"; a night in
# bed begun from then on is judged by the next morning.
AFTERNOON = 14
# In the bedroom from 18:00 until 11:00 is sleep time: without a bed pad, they are in bed.
SLEEP_FROM, SLEEP_UNTIL = 18, 11
# Going to bed from 18:00 on is the evening's bed time (a day-profile measure).
BED_TIME_FROM = 18
# The small hours belong to the evening before: before noon is "after midnight".
NOON = 12


def hour_of(t: datetime | time) -> float:
    """The hour of the day, with minutes as a fraction."""
    return t.hour + t.minute / 60


def is_sleep_time(hour: int) -> bool:
    """From 18:00 until 11:00 (local hours)."""
    return hour >= SLEEP_FROM or hour < SLEEP_UNTIL


def time_of(hour: float) -> time:
    """The clock time of an hour of the day, to the minute."""
    minutes = round(hour * 60) % (24 * 60)
    return time(minutes // 60, minutes % 60)


def clock(hour: float) -> str:
    """``07:30``."""
    return f"{time_of(hour):%H:%M}"


def latest_usual(hours: Collection[float], *, margin: float, spreads: float) -> float:
    """The latest this habit usually happens: the median plus ``margin`` hours or
    ``spreads`` times its median absolute deviation, whichever is more."""
    median = statistics.median(hours)
    spread = statistics.median(abs(h - median) for h in hours)
    return median + max(margin, spreads * spread)
