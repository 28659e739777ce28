"""The resident's mornings: when they get up, and the latest that is usual for them.

Getting up is learned here (:func:`learn_morning`) and "not up" judged here
(:func:`judge_not_up`); ``HomeWatch`` calls them with what they need of the rest
of the home: where the resident is, when the bed pad was left, whether a silence
is already raised or they are away. Its own state (the mornings seen, weekday
and weekend apart, the day they were up, the day "not up" was raised, the
feedback's extra minutes) and checkpoint section, ``mornings``.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server.detect.hours import (
    AFTERNOON,
    LATEST_WAKE_CAP,
    WAKE_FROM,
    WAKE_UNTIL,
    clock,
    hour_of,
    latest_usual,
    time_of,
)
from server.detect.local_hour import LocalHour
from server.domain.alerts import AlertKind
from server.domain.findings import Condition

__all__ = [
    "WAKES_LEARNED",
    "Mornings",
    "judge_not_up",
    "latest_wake",
    "learn_morning",
    "learn_wake",
]

# A week of mornings (or of weekend mornings) before their own getting-up time is used;
# until then, WatchSettings.latest_wake_default.
WAKES_LEARNED = 7
# The day's rooms; a night trip to the bathroom by the hall is not getting up.
_DAY_ROOMS = frozenset({"kitchen", "lounge"})
# Out of bed this long before they were first seen in a day room: they got up then.
_FROM_BED = timedelta(hours=1)


@dataclass(slots=True)
class Mornings:
    """The mornings seen and what they make the latest usual getting-up time."""

    # Hours of the day they got up, weekdays and weekends apart.
    wakes: deque[float] = field(default_factory=lambda: deque(maxlen=28))
    weekend_wakes: deque[float] = field(default_factory=lambda: deque(maxlen=12))
    woke_on: date | None = None
    not_up_on: date | None = None
    # Feedback: minutes added to the latest usual time after false "not up" alerts.
    slack_min: float = 0.0
    # Not checkpointed: the latest usual time last worked out, and what it was worked
    # out from (it only changes with a new morning, feedback, or weekday/weekend).
    latest: time | None = None
    latest_key: tuple[int, float, bool] | None = None
    learned: int = 0

    def section(self) -> dict[str, Any]:
        """The checkpoint section (the names are those of the first checkpoints)."""
        return {
            "wakes": list(self.wakes),
            "weekend_wakes": list(self.weekend_wakes),
            "woke_on": self.woke_on.isoformat() if self.woke_on else None,
            "not_up_on": self.not_up_on.isoformat() if self.not_up_on else None,
            "wake_slack_min": self.slack_min,
        }

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> Mornings:
        """A state from :meth:`section`."""
        woke_on, not_up_on = section["woke_on"], section["not_up_on"]
        state = cls(
            woke_on=date.fromisoformat(woke_on) if woke_on else None,
            not_up_on=date.fromisoformat(not_up_on) if not_up_on else None,
            slack_min=section["wake_slack_min"],
        )
        state.wakes.extend(section["wakes"])
        state.weekend_wakes.extend(section["weekend_wakes"])
        return state


def learn_wake(mornings: Mornings, woke: datetime) -> float:
    """They got up at local ``woke``: learned (weekday or weekend); returns its hour.

    Learned even after a "not up" alert: a late morning that ended in their getting
    up as usual is part of their routine (the median and MAD it feeds are robust to
    an odd one); left out, a late riser would be called every late morning for ever.
    """
    hour = hour_of(woke)
    (mornings.weekend_wakes if woke.weekday() >= 5 else mornings.wakes).append(hour)
    mornings.learned += 1
    return hour


def learn_morning(
    mornings: Mornings,
    room: str,
    ts: datetime,
    this_hour: LocalHour,
    *,
    bed_left: datetime | None,
    zone: ZoneInfo | None,
) -> float | None:
    """A reading in ``room`` at ``ts``: if it is their first time up and about this
    morning, learned (from the bed pad's ``bed_left`` if it was left shortly before);
    returns the hour they got up, or None when this is not getting up.
    """
    if room not in _DAY_ROOMS or not (WAKE_FROM <= this_hour.hour < WAKE_UNTIL):
        return None
    if mornings.woke_on == this_hour.day:
        return None
    mornings.woke_on = this_hour.day
    woke = ts
    if bed_left is not None and timedelta(0) <= ts - bed_left < _FROM_BED:
        woke = bed_left
    return learn_wake(mornings, woke.astimezone(zone) if zone else woke)


def judge_not_up(
    hub: str,
    mornings: Mornings,
    watermark: datetime,
    this_hour: LocalHour,
    *,
    latest: time,
    zone: ZoneInfo | None,
    held: bool,
) -> Condition | None:
    """In bed at ``watermark`` (local ``this_hour``): still there past this resident's own
    ``latest`` usual time, however they stir, is "not up" (at most once a day).

    ``held``: a silence is already raised, or they are away; not raised then.
    """
    # Before the latest usual hour or from 14:00 on, the minutes need not be looked at.
    if not (latest.hour <= this_hour.hour < AFTERNOON) or mornings.not_up_on == this_hour.day:
        return None
    if mornings.woke_on == this_hour.day:
        return None  # up already today: back in bed later is a lie-down, not "not up"
    local = watermark.astimezone(zone) if zone else watermark
    if local.time() < latest or held:
        return None
    mornings.not_up_on = local.date()
    learned = len(mornings.wakes) >= WAKES_LEARNED
    usual = (
        f"They are usually up by {clock(statistics.median(mornings.wakes))}; "
        f"later than {latest:%H:%M} is unusual for them."
        if learned
        else f"Not up by {latest:%H:%M}."
    )
    deadline = datetime.combine(local.date(), latest, local.tzinfo)
    return Condition(
        hub=hub,
        kind=AlertKind.NOT_UP,
        event_at=deadline,
        reason=f"Still in bed at {local:%H:%M}. {usual} Call to check they are well.",
        details={"latest_wake": f"{latest:%H:%M}", "wakes_learned": len(mornings.wakes)},
    )


def latest_wake(
    mornings: Mornings,
    day: date | None,
    *,
    default: time,
    margin_h: float,
    spreads: float,
) -> time:
    """The latest this resident usually gets up (weekends apart once there are enough)."""
    weekend = day is not None and day.weekday() >= 5
    key = (mornings.learned, mornings.slack_min, weekend)
    if mornings.latest_key != key or mornings.latest is None:
        mornings.latest = _work_out(
            mornings, weekend, default=default, margin_h=margin_h, spreads=spreads
        )
        mornings.latest_key = key
    return mornings.latest


def _work_out(
    mornings: Mornings, weekend: bool, *, default: time, margin_h: float, spreads: float
) -> time:
    wakes = mornings.wakes
    if weekend and len(mornings.weekend_wakes) >= WAKES_LEARNED:
        wakes = mornings.weekend_wakes
    slack = mornings.slack_min / 60
    if len(wakes) < WAKES_LEARNED:
        return time_of(min(hour_of(default) + slack, LATEST_WAKE_CAP))
    latest = latest_usual(wakes, margin=margin_h, spreads=spreads)
    if weekend and wakes is mornings.wakes and mornings.weekend_wakes:
        # Too few weekend mornings to judge them on their own, and a working week's
        # mornings say little about a Sunday lie-in: until there are enough, a weekend
        # morning may be as late as the latest weekend morning seen, plus the margin.
        latest = max(latest, max(mornings.weekend_wakes) + margin_h)
    return time_of(min(latest + slack, LATEST_WAKE_CAP))
