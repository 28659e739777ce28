"""No movement: how long a silence may last for this resident, here, at this time of day.

The limit for a silence from their last movement: in bed at night, until later than
their own latest usual getting-up time; elsewhere, set from each day's longest silence
in that place and band of the day (:mod:`server.detect.longest`) for a false-alarm
budget, between an operator's floor and ceiling (:class:`WatchSettings`), stretched by
feedback (:func:`silence_limit`); and the silence judged against it as the watermark
moves (:func:`judge_no_movement`). ``HomeWatch`` calls it with where the resident is,
which every detector shares, and whether they are away. Its own state, the limit worked
out for the current last movement (:class:`NoMovement`), is not checkpointed: it is
worked out again from what is.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from server.detect.gaps import BATHROOM, IN_BED, IN_CHAIR, UP, band_of
from server.detect.hours import AFTERNOON, clock, hour_of, is_sleep_time
from server.detect.inactivity import format_duration
from server.detect.longest import cell_of
from server.detect.mornings import WAKES_LEARNED, Mornings, latest_wake
from server.detect.settings import WatchSettings
from server.domain.alerts import AlertKind
from server.domain.findings import Condition, Finding

if TYPE_CHECKING:  # home_state holds a NoMovement: imported for the annotations only
    from server.detect.home_state import HomeState

__all__ = ["PLACE_WORDS", "NoMovement", "judge_no_movement", "latest_wake_for", "silence_limit"]

# A motion sensor "on" for longer than this is stuck, not seeing someone move: its
# "on" holds a silence off no longer (a fall beside a stuck sensor is still raised).
_MOTION_ON_HOLD = timedelta(hours=1)


@dataclass(slots=True)
class NoMovement:
    """The limit for the silence since ``limit_for`` (the last movement), worked out once
    for it: it only changes with the last movement, or with feedback (which forgets it)."""

    limit: timedelta | None = None
    limit_for: datetime | None = None


# How an alert names where they were still.
PLACE_WORDS = {
    UP: "up and about",
    BATHROOM: "in the bathroom",
    IN_BED: "in bed",
    IN_CHAIR: "in the chair",
}


def silence_limit(
    s: WatchSettings, home: HomeState, local: datetime, *, explain: bool = True
) -> tuple[timedelta, str]:
    """How long a silence from ``local`` (their last movement, local time) may last, and why.

    ``explain=False`` skips the words: the limit is worked out for every new last
    movement, the words only once it is passed.
    """
    hour = hour_of(local)
    band = band_of(hour)
    if home.place == IN_BED and is_sleep_time(local.hour):
        # Gone to bed for the night: judged by the next morning's usual (a Friday night
        # ends in a Saturday morning, which may be a weekend lie-in).
        morning = local.date() + timedelta(days=1) if local.hour >= AFTERNOON else local.date()
        latest = latest_wake_for(s, home.mornings, morning)
        wake = datetime.combine(morning, latest, local.tzinfo)
        if wake <= local:
            return s.nap_ceiling, "A long silence in bed in the morning."
        wakes = home.mornings.wakes
        learned = len(wakes) >= WAKES_LEARNED
        why = (
            f"Usually up by {clock(statistics.median(wakes))}; later than "
            f"{latest:%H:%M} is unusual for them."
            if learned
            else f"Not up by {latest:%H:%M}."
        )
        # In UTC: on a clock-change night local arithmetic is an hour out.
        return max(wake.astimezone(UTC) - local.astimezone(UTC), s.nap_floor), why
    floor, ceiling, most = {
        UP: (s.up_floor, s.up_ceiling, s.up_max),
        BATHROOM: (s.bathroom_floor, s.bathroom_ceiling, s.bathroom_max),
        IN_CHAIR: (s.chair_floor, s.chair_ceiling, s.chair_max),
        IN_BED: (s.nap_floor, s.nap_ceiling, s.nap_max),
    }[home.place]
    cell = cell_of(band=band, place=home.place)
    longest = home.longest
    learned_min = longest.limit(
        cell,
        place=home.place,
        per_day=s.false_alarm_budget / 30,
        spreads=s.limit_spreads,
    )
    # The ceiling is a safety net while the home's own days are few; then their own
    # history rules, up to what the operator allows at all (and feedback can move it).
    days = longest.days_seen()
    cap = ceiling if days < s.ceiling_days else max(most, ceiling)
    slack = home.slack.get((home.place, band), 1.0)
    limit = min(max(timedelta(minutes=learned_min), floor) * slack, cap)
    if not explain:
        return limit, ""
    usual = longest.usual(cell)
    if usual is None:
        why = "There is no history of silences here at this time of day yet."
    else:
        median, top, seen = usual
        why = (
            f"At this time of day their longest silence here is usually "
            f"{format_duration(timedelta(minutes=median))} (at most "
            f"{format_duration(timedelta(minutes=top))} on {seen} of their last {days} days); "
            f"the limit, {format_duration(limit)}, is set for fewer than "
            f"{s.false_alarm_budget:g} false alerts a month."
        )
    if days < s.ceiling_days and limit >= ceiling:
        why += f" Capped at {format_duration(ceiling)} while their routine is new."
    if slack > 1:
        why += f" Allowing {slack:.2g} times as long here after earlier false alarms."
    return limit, why


def latest_wake_for(s: WatchSettings, mornings: Mornings, day: date | None = None) -> time:
    """The latest this resident usually gets up (weekends apart once there are enough)."""
    return latest_wake(
        mornings,
        day,
        default=s.latest_wake_default,
        margin_h=s.wake_margin.total_seconds() / 3600,
        spreads=s.wake_spreads,
    )


def judge_no_movement(
    hub: str,
    s: WatchSettings,
    home: HomeState,
    watermark: datetime,
    *,
    floor: timedelta,
    zone: ZoneInfo | None,
    away: bool,
) -> list[Finding]:
    """The silence from their last movement up to ``watermark``: a no-movement alert once
    it is longer than their limit (``floor``: the shortest any limit here can be)."""
    last = home.last_activity
    if home.no_movement_raised or home.not_up_raised or last is None:
        return []
    if away:
        return []
    if home.last_door is not None and home.last_door > last:
        return []  # left by the front door and nothing moved since: out
    silence = watermark - last
    if silence <= floor:
        return []  # no limit is shorter than its floor: nothing to work out yet
    if home.motion_clears and any(
        sensor in home.motion_clears and watermark - since < _MOTION_ON_HOLD
        for sensor, since in home.motion_on.items()
    ):
        return []  # a sensor that reports its clears is still seeing movement
    # The limit only changes with the last movement (or feedback): worked out once for it.
    cached = home.no_movement
    if cached.limit_for != last or cached.limit is None:
        cached.limit, _ = silence_limit(s, home, _local(last, zone), explain=False)
        cached.limit_for = last
    if silence <= cached.limit:
        return []
    since = _local(last, zone)
    limit, why = silence_limit(s, home, since)
    home.no_movement_raised = True
    place = PLACE_WORDS[home.place]
    band = band_of(hour_of(since))
    return [
        Condition(
            hub=hub,
            kind=AlertKind.NO_MOVEMENT,
            event_at=last + limit,
            reason=(
                f"No movement for {format_duration(silence)} since {since:%H:%M} "
                f"({home.room or 'home'}, {place}). {why}"
            ),
            details={
                "last_activity": last.isoformat(),
                "room": home.room,
                "place": place,
                "silence_minutes": round(silence.total_seconds() / 60, 1),
                "limit_minutes": round(limit.total_seconds() / 60, 1),
                # Where feedback on this alert applies.
                "place_code": home.place,
                "band": band,
            },
        )
    ]


def _local(ts: datetime, zone: ZoneInfo | None) -> datetime:
    return ts.astimezone(zone) if zone else ts
