"""Today's telecare, for comparison: a fixed inactivity timer and a hand-set rule set.

Both speak the detector interface the evaluation drives, so they run on the
same homes in the same replay as carewatch's own detectors.

- :class:`FixedTimer`, like a Lifeline-style activity monitor: an alarm when no
  movement has been seen for ``hours`` inside a monitoring window (by default
  08:00 to 22:00); it knows nothing of doors, beds or the person.
- :class:`RuleSet`, the rules installers set by hand: no kitchen movement
  between 08:00 and noon; the front door opened between 22:00 and 06:00; out
  of bed for more than 45 minutes at night.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from edge.protocol import Reading, ReadingKind
from server.domain.alerts import AlertKind
from server.domain.findings import Condition, Finding

__all__ = ["FixedTimer", "RuleSet"]


@dataclass(slots=True)
class _Timer:
    last_motion: datetime | None = None
    raised: bool = False


class FixedTimer:
    """No movement for ``hours`` within the monitoring window raises an urgent alert."""

    def __init__(
        self,
        *,
        hours: float = 3.0,
        window: tuple[time, time] = (time(8, 0), time(22, 0)),
    ) -> None:
        self.limit = timedelta(hours=hours)
        self.window = window
        self._homes: dict[str, _Timer] = {}
        self._zones: dict[str, ZoneInfo] = {}

    def set_timezone(self, hub: str, zone: ZoneInfo) -> None:
        """The resident's local time zone, for the window."""
        self._zones[hub] = zone

    def observe(self, hub: str, reading: Reading) -> list[Finding]:
        """Movement restarts the timer."""
        home = self._homes.setdefault(hub, _Timer())
        moved = reading.kind is ReadingKind.MOTION and reading.value >= 1
        if moved and (home.last_motion is None or reading.ts > home.last_motion):
            home.last_motion = reading.ts
            home.raised = False
        return []

    def advance(self, hub: str, watermark: datetime) -> list[Finding]:
        """The timer runs only inside the window, from its opening or the last movement."""
        home = self._homes.setdefault(hub, _Timer())
        if home.raised or home.last_motion is None:
            return []
        zone = self._zones.get(hub)
        local = watermark.astimezone(zone) if zone else watermark
        opens, closes = self.window
        if not (opens <= local.time() < closes):
            return []
        opened = datetime.combine(local.date(), opens, local.tzinfo)
        since = max(home.last_motion, opened)
        if watermark - since < self.limit:
            return []
        home.raised = True
        return [
            Condition(
                hub=hub,
                kind=AlertKind.NO_MOVEMENT,
                event_at=since + self.limit,
                reason=f"No movement for {self.limit.total_seconds() / 3600:g} h (fixed timer).",
                # When the silence it timed began (the last movement, or the window's opening).
                details={"since": since.isoformat()},
            )
        ]


@dataclass(slots=True)
class _Rules:
    kitchen_seen_on: datetime | None = None
    kitchen_checked_on: object = None
    bed_left: datetime | None = None
    bed_raised: bool = False


class RuleSet:
    """Three installer rules: kitchen by noon, the door at night, out of bed at night."""

    def __init__(self) -> None:
        self._homes: dict[str, _Rules] = {}
        self._zones: dict[str, ZoneInfo] = {}

    def set_timezone(self, hub: str, zone: ZoneInfo) -> None:
        """The resident's local time zone."""
        self._zones[hub] = zone

    def _local(self, hub: str, ts: datetime) -> datetime:
        zone = self._zones.get(hub)
        return ts.astimezone(zone) if zone else ts

    @staticmethod
    def _night(t: time) -> bool:
        return t >= time(22, 0) or t < time(6, 0)

    def observe(self, hub: str, reading: Reading) -> list[Finding]:
        """Kitchen movement, the front door and the bed."""
        home = self._homes.setdefault(hub, _Rules())
        local = self._local(hub, reading.ts)
        if reading.sensor == "kitchen-pir" and reading.value >= 1 and 8 <= local.hour < 12:
            home.kitchen_seen_on = reading.ts
        if reading.sensor == "front-door" and reading.value >= 1 and self._night(local.time()):
            return [
                Condition(
                    hub=hub,
                    kind=AlertKind.DOOR_AT_NIGHT,
                    event_at=reading.ts,
                    reason=f"Front door opened at {local:%H:%M} (rule: door 22:00-06:00).",
                )
            ]
        if reading.kind is ReadingKind.BED:
            if reading.value < 0.5 and self._night(local.time()):
                home.bed_left, home.bed_raised = reading.ts, False
            elif reading.value >= 0.5:
                home.bed_left = None
        return []

    def advance(self, hub: str, watermark: datetime) -> list[Finding]:
        """At noon, the kitchen rule; at night, the out-of-bed rule."""
        home = self._homes.setdefault(hub, _Rules())
        local = self._local(hub, watermark)
        found: list[Finding] = []
        if local.hour >= 12 and home.kitchen_checked_on != local.date():
            home.kitchen_checked_on = local.date()
            seen = home.kitchen_seen_on
            if seen is None or self._local(hub, seen).date() != local.date():
                found.append(
                    Condition(
                        hub=hub,
                        kind=AlertKind.NO_MOVEMENT,
                        event_at=watermark,
                        reason="No kitchen movement between 08:00 and noon (rule).",
                    )
                )
        if (
            home.bed_left is not None
            and not home.bed_raised
            and watermark - home.bed_left > timedelta(minutes=45)
        ):
            home.bed_raised = True
            found.append(
                Condition(
                    hub=hub,
                    kind=AlertKind.OUT_OF_BED,
                    event_at=home.bed_left + timedelta(minutes=45),
                    reason="Out of bed for more than 45 minutes at night (rule).",
                )
            )
        return found
