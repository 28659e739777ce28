"""What carewatch remembers about one home, and its checkpoint form.

A checkpoint is ``CWH1``, the length of a JSON header, the header (times,
counters, the resident's recent wakes and nights) and the gap histogram's raw
counts. A server restored from it neither forgets a baseline nor raises an
alert it has already raised. An unreadable checkpoint (another version, a
truncated row) is refused with :class:`CheckpointError` and the home starts
from the population prior again.
"""

from __future__ import annotations

import json
import math
import struct
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from server.detect.gaps import UP, GapModel
from server.detect.longest import Longest
from server.domain.alerts import AlertKind

__all__ = ["CheckpointError", "HomeState"]

_MAGIC = b"CWH1"
_HEADER = struct.Struct(">4sI")

# The scalar fields and how they are written: (datetime | date | AlertKind | plain) or None.
_TIMES = (
    "last_activity",
    "bed_left",
    "last_door",
    "watermark",
    "door_at_night",
    "last_bathroom",
    "away_until",
    "feedback_until",
    "bed_pressed",
    "stirred_at",
    "in_bed_at",
    "chair_pressed",
)
_DAYS = (
    "not_up_on",
    "woke_on",
    "night_of",
    "toilets_raised_on",
    "closed_night",
    "activity_day",
    "decline_raised_on",
    "profile_raised_on",
)
_PLAIN = (
    "place",
    "room",
    "in_bed",
    "has_bed_pad",
    "in_chair",
    "door_raised",
    "tonight",
    "toilet_cusum",
    "wake_slack_min",
    "door_slack",
    "meal_seen_on",
    "activity_today",
    "decline_cusum",
    "low_days",
    "sensor_seen",
    "sensor_mark",
    "sensor_gap",
    "sensor_missed",
    "sensor_days",
    "environment_sensors",
    "silent_sensors",
    "activity_total",
    "profile_run",
    "profile_wake",
    "profile_toilets",
    "profile_counts",
    "sensor_span",
    "advisory_slack",
    "bed_stay",
    "chair_pulsing",
    "stirred_by",
    "coverage_told",
)
_DEQUES = (
    "wakes",
    "weekend_wakes",
    "night_counts",
    "recent_nights",
    "lunch_times",
    "dinner_times",
    "day_counts",
    "profile_days",
    "profile_recent",
    "profile_held",
)
# Fields added after checkpoints were first written: an older checkpoint lacks them
# and keeps the defaults, rather than the home forgetting everything it learned.
_ADDED = frozenset(
    {
        "profile_raised_on",
        "profile_run",
        "profile_wake",
        "profile_toilets",
        "profile_counts",
        "profile_days",
        "profile_recent",
        "profile_held",
        "sensor_span",
        "advisory_slack",
        "bed_pressed",
        "bed_stay",
        "stirred_at",
        "stirred_by",
        "in_bed_at",
        "coverage_told",
        "chair_pressed",
        "chair_pulsing",
    }
)


class CheckpointError(ValueError):
    """A checkpoint this version cannot read."""


@dataclass(slots=True)
class HomeState:
    """Per-home detector state; small (about 16 KiB as a checkpoint, most of it the gap histogram)."""

    gaps: GapModel = field(default_factory=GapModel)
    # Each day's longest silence per place and band: what the no-movement limits come from.
    longest: Longest = field(default_factory=Longest)
    last_activity: datetime | None = None
    place: int = UP
    room: str | None = None
    in_bed: bool = False
    has_bed_pad: bool = False
    in_chair: bool = False
    # The chair pad's last press: pads pulse, so pressed a moment ago is still in the chair.
    chair_pressed: datetime | None = None
    # The share of the chair pad's recent presses that were pulses (0: it holds "occupied").
    chair_pulsing: float = 0.0
    not_up_on: date | None = None
    bed_left: datetime | None = None
    # The bed pad's last press, and whether they have stayed in the bedroom since.
    bed_pressed: datetime | None = None
    bed_stay: bool = False
    # The last time they were in bed (pad or bedroom at sleep time): the door at night.
    in_bed_at: datetime | None = None
    last_door: datetime | None = None
    watermark: datetime | None = None
    raised: AlertKind | None = None
    # After a no-movement alert: the first reading since, and its sensor. The alert ends
    # when the resident is seen moving about again, not at a lone blip (see watch.py).
    stirred_at: datetime | None = None
    stirred_by: str | None = None
    wakes: deque[float] = field(default_factory=lambda: deque(maxlen=28))
    weekend_wakes: deque[float] = field(default_factory=lambda: deque(maxlen=12))
    woke_on: date | None = None
    door_at_night: datetime | None = None
    door_raised: bool = False
    cold_since: dict[str, datetime] = field(default_factory=dict)
    cold_raised: set[str] = field(default_factory=set)
    night_counts: deque[int] = field(default_factory=lambda: deque(maxlen=28))
    tonight: int = 0
    night_of: date | None = None
    last_bathroom: datetime | None = None
    toilets_raised_on: date | None = None
    closed_night: date | None = None
    toilet_cusum: float = 0.0
    recent_nights: deque[int] = field(default_factory=lambda: deque(maxlen=3))
    low_batteries: set[str] = field(default_factory=set)
    # What the installer was last told the sensors cannot see (server.detect.coverage).
    coverage_told: list[str] = field(default_factory=list)
    # The resident said they are away: no inactivity judgements until then.
    away_until: datetime | None = None
    # Feedback: per place and band, how much longer than learned a silence must be.
    slack: dict[tuple[int, int], float] = field(default_factory=dict)
    wake_slack_min: float = 0.0
    door_slack: float = 1.0
    # Feedback on advisories: per alert kind, how much less eagerly it is raised.
    advisory_slack: dict[str, float] = field(default_factory=dict)
    feedback_until: datetime | None = None
    # Meals: the first kitchen visit in each meal window, and the day it was last seen.
    lunch_times: deque[float] = field(default_factory=lambda: deque(maxlen=28))
    dinner_times: deque[float] = field(default_factory=lambda: deque(maxlen=28))
    meal_seen_on: dict[str, str] = field(default_factory=dict)
    # Movements a day: the usual days, today's count, and the decline CUSUM.
    day_counts: deque[int] = field(default_factory=lambda: deque(maxlen=42))
    activity_day: date | None = None
    activity_today: int = 0
    decline_cusum: float = 0.0
    low_days: int = 0
    decline_raised_on: date | None = None
    # The day profile (server.detect.day_profile): usual days, the last few days'
    # scores, and today's getting-up hour, night toilet visits and counts
    # (kitchen visits, hours out, movements about the house at night, the hour to bed).
    profile_days: deque[list[float]] = field(default_factory=lambda: deque(maxlen=28))
    profile_recent: deque[list[float]] = field(default_factory=lambda: deque(maxlen=4))
    # Recent unusual days kept out of the baseline, to learn if people say they were fine.
    profile_held: deque[list[float]] = field(default_factory=lambda: deque(maxlen=4))
    profile_run: int = 0
    profile_raised_on: date | None = None
    profile_wake: float | None = None
    profile_toilets: int | None = None
    profile_counts: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, math.nan])
    # Sensors: when each last reported (epoch s), the home's activity count then,
    # the share of days it reports on, which report on their own, which are silent.
    sensor_seen: dict[str, float] = field(default_factory=dict)
    sensor_mark: dict[str, int] = field(default_factory=dict)
    sensor_gap: dict[str, float] = field(default_factory=dict)
    sensor_missed: dict[str, int] = field(default_factory=dict)
    sensor_days: dict[str, float] = field(default_factory=dict)
    # The most movements elsewhere between two of the sensor's reports lately.
    sensor_span: dict[str, float] = field(default_factory=dict)
    environment_sensors: dict[str, bool] = field(default_factory=dict)
    silent_sensors: list[str] = field(default_factory=list)
    activity_total: int = 0
    # Not checkpointed: the sensor map last judged for coverage (a restart judges it again,
    # and says nothing new unless the findings changed).
    coverage_key: int | None = None
    # Not checkpointed: the no-movement limit for the current last activity.
    limit: timedelta | None = None
    limit_for: datetime | None = None
    last_band: int | None = None
    last_day: int | None = None
    # The next local 07:00 (the morning's reckoning) and today's meal checks.
    next_morning: datetime | None = None
    meal_checks: list[tuple[datetime, str]] = field(default_factory=list)
    kitchen_since: datetime | None = None
    latest_wake: time | None = None
    latest_wake_key: tuple[int, float, bool] | None = None
    wakes_learned: int = 0
    next_sensor_check: datetime | None = None
    # Motion sensors whose last report was "on", since when, and those seen to clear.
    motion_on: dict[str, datetime] = field(default_factory=dict)
    motion_clears: set[str] = field(default_factory=set)

    def to_bytes(self) -> bytes:
        """The checkpoint form."""
        header: dict[str, Any] = {}
        for name in _TIMES:
            value = getattr(self, name)
            header[name] = value.isoformat() if value else None
        for name in _DAYS:
            value = getattr(self, name)
            header[name] = value.isoformat() if value else None
        for name in _PLAIN:
            header[name] = getattr(self, name)
        for name in _DEQUES:
            header[name] = list(getattr(self, name))
        header["raised"] = self.raised.value if self.raised else None
        header["cold_since"] = {k: v.isoformat() for k, v in self.cold_since.items()}
        header["cold_raised"] = sorted(self.cold_raised)
        header["low_batteries"] = sorted(self.low_batteries)
        header["slack"] = [[p, b, v] for (p, b), v in self.slack.items()]
        header["longest"] = self.longest.state()
        encoded = json.dumps(header, separators=(",", ":")).encode()
        return _HEADER.pack(_MAGIC, len(encoded)) + encoded + self.gaps.state()

    @classmethod
    def from_bytes(cls, data: bytes) -> HomeState:
        """A state from :meth:`to_bytes`."""
        try:
            magic, length = _HEADER.unpack_from(data)
            if magic != _MAGIC:
                raise CheckpointError(f"not a home checkpoint (starts {magic!r})")
            start = _HEADER.size
            header = json.loads(data[start : start + length])
            state = cls(gaps=GapModel.restore(data[start + length :]))
            for name in _TIMES:
                value = header.get(name) if name in _ADDED else header[name]
                setattr(state, name, datetime.fromisoformat(value) if value else None)
            for name in _DAYS:
                value = header.get(name) if name in _ADDED else header[name]
                setattr(state, name, date.fromisoformat(value) if value else None)
            for name in _PLAIN:
                if name in header or name not in _ADDED:
                    setattr(state, name, header[name])
            for name in _DEQUES:
                getattr(state, name).extend(
                    header.get(name, []) if name in _ADDED else header[name]
                )
            state.raised = AlertKind(header["raised"]) if header["raised"] else None
            state.cold_since = {
                k: datetime.fromisoformat(v) for k, v in header["cold_since"].items()
            }
            state.cold_raised = set(header["cold_raised"])
            state.low_batteries = set(header["low_batteries"])
            state.slack = {(int(p), int(b)): float(v) for p, b, v in header["slack"]}
            # Added later: an older checkpoint has none, and the days are collected afresh.
            state.longest = Longest.restore(header.get("longest"))
        except CheckpointError:
            raise
        except (struct.error, ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(f"unreadable home checkpoint: {exc}") from exc
        return state
