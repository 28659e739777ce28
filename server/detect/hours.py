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

__all__ = ["clock", "hour_of", "latest_usual", "time_of"]


def hour_of(t: datetime | time) -> float:
    """The hour of the day, with minutes as a fraction."""
    return t.hour + t.minute / 60


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
