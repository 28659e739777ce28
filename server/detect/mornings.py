"""The resident's mornings: when they get up, and the latest that is usual for them.

What "not up" is judged by (``HomeWatch`` raises it: it needs where they are
and whether a silence is already raised). Its own state (the mornings seen,
weekday and weekend apart, the day they were up, the day "not up" was raised,
the feedback's extra minutes) and checkpoint section, ``mornings``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from server.detect.hours import LATEST_WAKE_CAP, hour_of, latest_usual, time_of

__all__ = ["WAKES_LEARNED", "Mornings", "latest_wake", "learn_wake"]

# A week of mornings (or of weekend mornings) before their own getting-up time is used;
# until then, WatchSettings.latest_wake_default.
WAKES_LEARNED = 7


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
