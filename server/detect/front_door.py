"""The front door at night followed by no movement inside: urgent (they may have gone out).

Its own state (the use being judged, whether it was raised, and how much longer
a quiet after the door must be after false alarms) and checkpoint section,
``front_door``. When the front door was last used at all (``HomeState.last_door``)
is the home's, not this detector's: inactivity and the day profile read it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server.detect.hours import NOON, hour_of
from server.detect.inactivity import format_duration
from server.domain.alerts import AlertKind
from server.domain.findings import Condition, Finding

__all__ = ["FrontDoor", "is_door_night", "judge_door"]

# From this hour on, a leaving is at night whatever the evening; before it, from
# night_starts, only after going to bed since _EVENING.
_SMALL_HOURS_START = 1.0
_EVENING = time(18, 0)


@dataclass(slots=True)
class FrontDoor:
    """The use of the front door at night being judged, and what feedback made of it."""

    # The last use at night after someone was seen inside (None: none being judged).
    at_night: datetime | None = None
    raised: bool = False
    # Feedback: how many times door_quiet must pass before it is raised.
    slack: float = 1.0

    def section(self) -> dict[str, Any]:
        """The checkpoint section (the names are those of the first checkpoints)."""
        return {
            "door_at_night": self.at_night.isoformat() if self.at_night else None,
            "door_raised": self.raised,
            "door_slack": self.slack,
        }

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> FrontDoor:
        """A state from :meth:`section`."""
        at_night = section["door_at_night"]
        return cls(
            at_night=datetime.fromisoformat(at_night) if at_night else None,
            raised=section["door_raised"],
            slack=section["door_slack"],
        )


def is_door_night(
    local: datetime,
    *,
    in_bed_at: datetime | None,
    night_starts: time,
    night_ends: time,
) -> bool:
    """Whether a leaving by the front door now is a leaving at night.

    In the small hours it always is. In the late evening (from ``night_starts``) only
    once they had gone to bed this evening: someone who goes out at 22:50 without
    having been to bed is going out, as they may on any evening (a door alert every
    late evening out was most of a real home's false door alerts); someone who went to
    bed and is out of the door at 23:30 may be wandering.

    >>> from datetime import UTC
    >>> night = dict(night_starts=time(22, 0), night_ends=time(6, 0))
    >>> at = lambda h, m: datetime(2026, 11, 2, h, m, tzinfo=UTC)
    >>> is_door_night(at(22, 50), in_bed_at=None, **night)  # out for the evening
    False
    >>> is_door_night(at(23, 30), in_bed_at=at(22, 10), **night)  # up again after bed
    True
    >>> is_door_night(at(2, 15), in_bed_at=None, **night)  # the small hours
    True
    >>> is_door_night(at(7, 0), in_bed_at=at(2, 0), **night)  # morning
    False
    """
    hour = hour_of(local)
    if hour < NOON:
        hour += 24  # the small hours belong to the evening before
    starts = hour_of(night_starts)
    if starts < NOON:
        starts += 24  # an operator's night that starts after midnight
    if not (starts <= hour < 24 + hour_of(night_ends)):
        return False
    if hour >= 24 + _SMALL_HOURS_START:
        return True
    evening = datetime.combine(
        local.date() - timedelta(days=1) if local.hour < NOON else local.date(),
        _EVENING,
        local.tzinfo,
    )
    return in_bed_at is not None and in_bed_at >= evening


def judge_door(
    hub: str,
    door: FrontDoor,
    watermark: datetime,
    *,
    quiet: timedelta,
    zone: ZoneInfo | None,
) -> list[Finding]:
    """No movement inside for ``quiet`` (times the feedback slack) since the door at night."""
    opened = door.at_night
    if opened is None or door.raised:
        return []
    quiet = quiet * door.slack
    if watermark - opened < quiet:
        return []
    door.raised = True
    local = opened.astimezone(zone) if zone else opened
    return [
        Condition(
            hub=hub,
            kind=AlertKind.DOOR_AT_NIGHT,
            event_at=opened + quiet,
            reason=(
                f"The front door was used at {local:%H:%M} and there has been no movement "
                f"inside for {format_duration(watermark - opened)}. At night the resident "
                "is normally in: they may have gone out. Call, then check the home."
            ),
            details={"door_at": opened.isoformat()},
        )
    ]
