"""What an operator may set for the detectors (``server.runtime`` sets some from the
server's settings); the learned thresholds stay between each floor and ceiling.

Also importable as ``server.detect.watch.WatchSettings``, where it used to live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta

__all__ = ["WatchSettings"]


@dataclass(slots=True, frozen=True)
class WatchSettings:
    """An operator's limits; the learned thresholds stay between each floor and ceiling."""

    up_floor: timedelta = timedelta(minutes=20)
    up_ceiling: timedelta = timedelta(hours=3)
    bathroom_floor: timedelta = timedelta(minutes=20)
    bathroom_ceiling: timedelta = timedelta(minutes=90)
    chair_floor: timedelta = timedelta(minutes=75)
    chair_ceiling: timedelta = timedelta(hours=3)
    nap_floor: timedelta = timedelta(hours=2)
    nap_ceiling: timedelta = timedelta(hours=4)
    # The ceilings above are a safety net for a home's first days, before its own silences
    # are known: from this many days of its own on, the resident's own days rule, up to
    # these maxima (what an operator allows at most, whatever the history says).
    ceiling_days: int = 7
    up_max: timedelta = timedelta(hours=8)
    bathroom_max: timedelta = timedelta(hours=3)
    chair_max: timedelta = timedelta(hours=8)
    nap_max: timedelta = timedelta(hours=8)
    # No-movement limits are set so that the home's expected false urgent alerts stay
    # within this many per resident-month (server.detect.longest), plus this many
    # standard errors for the uncertainty of a few days' history.
    false_alarm_budget: float = 0.5
    limit_spreads: float = 1.0
    # A silence that raised an alert and ended in movement is routine unless a person
    # confirms an incident within this time; it is learned as at most this many times
    # the limit it passed, so one unconfirmed long silence (a fall nobody reported back
    # on) can only widen a limit step by step, never to hours at once.
    alerted_learn_after: timedelta = timedelta(hours=6)
    alerted_learn_factor: float = 2.0
    # Before a home has a fortnight of mornings: the latest a resident is expected up.
    latest_wake_default: time = time(10, 0)
    wake_margin: timedelta = timedelta(minutes=60)
    # ...or this many times the spread (MAD) of their wake times, if that is more. Three,
    # not four: residents whose mornings vary by hours were otherwise not called before
    # 13:00 (bench.wake_margin on seed 4242: not-up recall 90 % -> 98 %, false not-up
    # calls 0.20 -> 0.39 per resident-month).
    wake_spreads: float = 3.0
    night_starts: time = time(22, 0)
    night_ends: time = time(6, 0)
    door_quiet: timedelta = timedelta(minutes=10)
    cold_limit_c: float = 18.0
    cold_for: timedelta = timedelta(hours=2)
    battery_low: float = 10.0
    # Each false alarm lengthens that place and time of day's limit by this much, up to a cap.
    feedback_step: float = 1.25
    feedback_max: float = 2.0
    wake_feedback: timedelta = timedelta(minutes=20)
    wake_feedback_max: timedelta = timedelta(hours=2)
    door_feedback_max: float = 6.0
