"""No movement for longer than fixed limits, in event time: carewatch's first detector.

The server now runs :class:`server.detect.watch.HomeWatch`, which learns each
resident's own limits; this one stays as ``carewatch-eval``'s "fixed-limits"
baseline, and its helpers (room names, durations in words) are shared.

The detector is handed readings and each hub's watermark (the time up to which
the hub has delivered everything). Silence is measured against the watermark,
never the server's clock, so a hub that is offline (watermark stuck) cannot
look like a resident who stopped moving, and an hour of buffered readings
delivered late is folded in before anything is judged.

>>> from datetime import UTC, datetime, timedelta
>>> from edge.protocol import Reading, ReadingKind
>>> detector = InactivityDetector()
>>> t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
>>> detector.observe("hub-1", Reading("kitchen-pir", ReadingKind.MOTION, t0, 1.0))
[]
>>> [c.kind.value for c in detector.advance("hub-1", t0 + timedelta(hours=2))]
['no_movement']
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from edge.protocol import Reading, ReadingKind
from server.domain.alerts import AlertKind
from server.domain.findings import Cleared, Condition, Finding

__all__ = [
    "APPLIANCE_ROOMS",
    "FRONT_DOOR_SENSOR",
    "PAD_ROOMS",
    "InactivityDetector",
    "format_duration",
    "room_for",
    "room_of",
]

FRONT_DOOR_SENSOR = "front-door"
_PIR_SUFFIX = "-pir"
# Getting into or out of bed or the chair is the resident moving, and says where
# they are even when a PIR missed them (a bed pad is also what tells sleep from a fall).
PAD_ROOMS: dict[str, str] = {ReadingKind.BED: "bedroom", ReadingKind.CHAIR: "lounge"}
# Appliances whose name, not a ``<room>-`` prefix, says where they are.
APPLIANCE_ROOMS = {"kettle": "kitchen", "fridge-door": "kitchen"}
_ACTIVITY_KINDS = frozenset({ReadingKind.MOTION, *PAD_ROOMS})


def room_of(sensor: str) -> str:
    """The room a ``<room>-pir`` sensor watches."""
    return sensor.removesuffix(_PIR_SUFFIX)


def room_for(sensor: str, kind: str) -> str:
    """The room a reading puts the resident in: the pad's, the appliance's, or the name's.

    >>> room_for("bed", "bed"), room_for("kettle", "power"), room_for("hall-pir", "motion")
    ('bedroom', 'kitchen', 'hall')
    """
    return PAD_ROOMS.get(kind) or APPLIANCE_ROOMS.get(sensor) or room_of(sensor)


def format_duration(delta: timedelta) -> str:
    """``2 h 10 min``, the way a carer says it.

    >>> format_duration(timedelta(minutes=130))
    '2 h 10 min'
    """
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    if hours:
        return f"{hours} h"
    return f"{minutes} min"


@dataclass(slots=True)
class _Home:
    last_motion: datetime | None = None
    last_room: str | None = None
    # The front door's last event; after the last movement it means "went out".
    last_door: datetime | None = None
    watermark: datetime | None = None
    raised: bool = False


class InactivityDetector:
    """Raises ``no_movement`` (urgent) when a silence at home outlasts its limit.

    The limit depends on where the resident was last seen: a short one in the
    bathroom, the daytime one elsewhere, and in the bedroom at night silence is
    sleep until ``latest_wake`` local time. Leaving by the front door with no
    movement after it means "out", not "fallen".
    """

    def __init__(
        self,
        *,
        day_limit: timedelta = timedelta(minutes=90),
        bathroom_limit: timedelta = timedelta(minutes=60),
        latest_wake: time = time(10, 0),
        night_starts: time = time(20, 0),
    ) -> None:
        self.day_limit = day_limit
        self.bathroom_limit = bathroom_limit
        self.latest_wake = latest_wake
        self.night_starts = night_starts
        self._homes: dict[str, _Home] = {}
        self._zones: dict[str, ZoneInfo] = {}

    def set_timezone(self, hub: str, zone: ZoneInfo) -> None:
        """The resident's local time zone, for what counts as night."""
        self._zones[hub] = zone

    def restore(
        self,
        hub: str,
        *,
        last_motion: datetime | None,
        last_room: str | None,
        last_door: datetime | None,
        raised: bool,
    ) -> None:
        """Start from what the database remembers, so a restart neither forgets nor re-raises."""
        self._homes[hub] = _Home(
            last_motion=last_motion,
            last_room=last_room,
            last_door=last_door,
            watermark=max((t for t in (last_motion, last_door) if t), default=None),
            raised=raised,
        )

    def observe(self, hub: str, reading: Reading) -> list[Finding]:
        """Fold in one reading, however late it arrives."""
        home = self._homes.setdefault(hub, _Home())
        room = PAD_ROOMS.get(reading.kind)
        if (room is not None or reading.value >= 1) and reading.kind in _ACTIVITY_KINDS:
            if home.last_motion is None or reading.ts > home.last_motion:
                home.last_motion = reading.ts
                home.last_room = room or room_of(reading.sensor)
                if home.raised:
                    home.raised = False
                    return [
                        Cleared(
                            hub=hub,
                            kind=AlertKind.NO_MOVEMENT,
                            event_at=reading.ts,
                            reason=f"Movement again in the {home.last_room} at "
                            f"{self._local(hub, reading.ts):%H:%M}.",
                        )
                    ]
        elif (
            reading.kind is ReadingKind.CONTACT
            and reading.sensor == FRONT_DOOR_SENSOR
            and (home.last_door is None or reading.ts > home.last_door)
        ):
            home.last_door = reading.ts
        return []

    def advance(self, hub: str, watermark: datetime) -> list[Finding]:
        """Everything up to ``watermark`` has been seen: judge the silence so far."""
        home = self._homes.setdefault(hub, _Home())
        if home.watermark is None or watermark > home.watermark:
            home.watermark = watermark
        if home.raised or home.last_motion is None or home.watermark is None:
            return []
        if home.last_door is not None and home.last_door > home.last_motion:
            return []  # left by the front door and nothing moved since: out
        silence = home.watermark - home.last_motion
        limit, why = self._limit(hub, home.last_motion, home.last_room)
        if silence <= limit:
            return []
        home.raised = True
        since = self._local(hub, home.last_motion)
        room = home.last_room or "home"
        return [
            Condition(
                hub=hub,
                kind=AlertKind.NO_MOVEMENT,
                event_at=home.last_motion + limit,
                reason=(
                    f"No movement for {format_duration(silence)} since {since:%H:%M} "
                    f"({room}). {why}"
                ),
                details={
                    "last_motion": home.last_motion.isoformat(),
                    "last_room": room,
                    "silence_minutes": round(silence.total_seconds() / 60, 1),
                    "limit_minutes": round(limit.total_seconds() / 60, 1),
                },
            )
        ]

    def _limit(self, hub: str, last_motion: datetime, room: str | None) -> tuple[timedelta, str]:
        local = self._local(hub, last_motion)
        if room == "bathroom":
            return self.bathroom_limit, (
                f"A silence in the bathroom longer than {format_duration(self.bathroom_limit)} "
                "is unusual."
            )
        if room == "bedroom" and self._is_night(local.time()):
            wake = datetime.combine(local.date(), self.latest_wake, local.tzinfo)
            if wake <= local:
                wake += timedelta(days=1)
            limit = max(wake - local, self.day_limit)
            return limit, f"Last seen in bed for the night and not up by {self.latest_wake:%H:%M}."
        return self.day_limit, (
            f"During the day a silence longer than {format_duration(self.day_limit)} is unusual."
        )

    def _is_night(self, t: time) -> bool:
        return t >= self.night_starts or t < self.latest_wake

    def _local(self, hub: str, ts: datetime) -> datetime:
        zone = self._zones.get(hub)
        return ts.astimezone(zone) if zone else ts
